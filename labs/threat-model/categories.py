"""The threat categories each system's threat model must cover (the grader's answer key).

A threat covers a category when one of its ATLAS technique ids is in the category's set, or
is a sub-technique of one in the set, or is the parent of one in the set. Feedback names
missed categories by their title only.
"""

CATEGORIES: dict[str, dict[str, dict]] = {
    "fraud-detection": {
        "evasion": {
            "title": "evasion of the model by crafted transactions at inference time",
            "techniques": ["AML.T0015", "AML.T0043"],
        },
        "poisoning": {
            "title": "poisoning of the training data or of the labels fed back by analysts and chargebacks",
            "techniques": ["AML.T0020", "AML.T0059", "AML.T0018", "AML.T0010.002", "AML.T0031"],
        },
        "extraction": {
            "title": "theft or probing of the model through the partner scoring API",
            "techniques": ["AML.T0024.002", "AML.T0005", "AML.T0040", "AML.T0063", "AML.T0013", "AML.T0014"],
        },
        "privacy": {
            "title": "leakage of customers' transaction data from the model or the pipeline",
            "techniques": [
                "AML.T0024.000",
                "AML.T0024.001",
                "AML.T0057",
                "AML.T0025",
                "AML.T0036",
                "AML.T0037",
            ],
        },
        "supply-chain": {
            "title": "compromise through third-party models, libraries or data feeds",
            "techniques": ["AML.T0010", "AML.T0011", "AML.T0058", "AML.T0019"],
        },
        "availability": {
            "title": "denial of service or cost abuse of the scoring service",
            "techniques": ["AML.T0029", "AML.T0034", "AML.T0046"],
        },
    },
    "healthcare-chatbot": {
        "prompt-injection": {
            "title": "prompt injection (direct or through retrieved documents) and jailbreaks",
            "techniques": ["AML.T0051", "AML.T0054", "AML.T0065", "AML.T0068", "AML.T0093"],
        },
        "data-leakage": {
            "title": "leakage of patient data, the system prompt or other users' conversations",
            "techniques": [
                "AML.T0057",
                "AML.T0056",
                "AML.T0024",
                "AML.T0069",
                "AML.T0077",
                "AML.T0085",
                "AML.T0082",
            ],
        },
        "knowledge-poisoning": {
            "title": "poisoning of the knowledge base the chatbot retrieves from",
            "techniques": ["AML.T0070", "AML.T0071", "AML.T0066", "AML.T0020", "AML.T0059", "AML.T0099"],
        },
        "harmful-output": {
            "title": "harmful, false or manipulated answers reaching patients",
            "techniques": ["AML.T0048", "AML.T0067", "AML.T0031", "AML.T0060", "AML.T0062"],
        },
        "tool-abuse": {
            "title": "abuse of the chatbot's tools (appointment booking, record lookup)",
            "techniques": ["AML.T0053", "AML.T0086", "AML.T0101", "AML.T0085.001", "AML.T0100", "AML.T0110"],
        },
        "supply-chain": {
            "title": "compromise through the hosted foundation model, libraries or plug-ins",
            "techniques": ["AML.T0010", "AML.T0011", "AML.T0058", "AML.T0104"],
        },
        "availability": {
            "title": "denial of service or cost abuse of the chatbot",
            "techniques": ["AML.T0029", "AML.T0034", "AML.T0046"],
        },
    },
    "face-access-control": {
        "impersonation": {
            "title": "impersonation or evasion at the door camera with photos, masks, patches or deepfakes",
            "techniques": ["AML.T0015", "AML.T0043", "AML.T0041", "AML.T0088"],
        },
        "gallery-poisoning": {
            "title": "poisoning of the enrolment gallery or of the face crops sent back for fine-tuning",
            "techniques": ["AML.T0020", "AML.T0059", "AML.T0018", "AML.T0019"],
        },
        "biometric-privacy": {
            "title": "leakage of face images, embeddings or entry logs of the people enrolled",
            "techniques": ["AML.T0024.000", "AML.T0024.001", "AML.T0025", "AML.T0036", "AML.T0037"],
        },
        "terminal-compromise": {
            "title": "theft or tampering of the model on the door terminals",
            "techniques": ["AML.T0044", "AML.T0035", "AML.T0112", "AML.T0076"],
        },
        "supply-chain": {
            "title": "compromise through the vendor's model updates, open-source model or libraries",
            "techniques": ["AML.T0010", "AML.T0011", "AML.T0058"],
        },
        "availability": {
            "title": "denial of service of matching, locking people out of buildings",
            "techniques": ["AML.T0029", "AML.T0046", "AML.T0034"],
        },
    },
    "malware-detection": {
        "evasion": {
            "title": "evasion of the classifiers by modified malware",
            "techniques": ["AML.T0015", "AML.T0043", "AML.T0042", "AML.T0097"],
        },
        "poisoning": {
            "title": "poisoning of the training corpus or its labels via feeds, shares or submissions",
            "techniques": ["AML.T0020", "AML.T0059", "AML.T0019", "AML.T0010.002", "AML.T0018"],
        },
        "model-theft": {
            "title": "theft or replication of the models from the agent or the cloud lookup",
            "techniques": ["AML.T0044", "AML.T0035", "AML.T0024.002", "AML.T0005", "AML.T0040", "AML.T0063"],
        },
        "privacy": {
            "title": "leakage of customers' uploaded files and telemetry",
            "techniques": ["AML.T0025", "AML.T0036", "AML.T0037", "AML.T0024.000", "AML.T0085"],
        },
        "supply-chain": {
            "title": "compromise through third-party libraries, code, feeds or the update channel",
            "techniques": ["AML.T0010", "AML.T0011", "AML.T0058"],
        },
        "integrity-and-availability": {
            "title": "false positives on legitimate files, and denial or cost abuse of the cloud scanner",
            "techniques": ["AML.T0031", "AML.T0029", "AML.T0034", "AML.T0046"],
        },
    },
}
