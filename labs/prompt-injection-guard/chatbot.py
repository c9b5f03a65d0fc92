"""SupportBot: the deterministic, deliberately vulnerable chatbot of the prompt-injection-guard lab.

No language model: rules and templates that imitate how an instruction-following LLM fails.
It "understands" much more than its own safety filter reads: it undoes Unicode tricks
(NFKC, zero-width characters, Cyrillic/Greek look-alikes) and leetspeak, decodes base64
and rot13 it finds, understands a few other languages, and treats retrieved documents as
instructions. Its only safety rule - refuse a request for the access code - looks at the
raw English text alone, and an override or role-play framing talks it out of even that.
"""

import base64
import binascii
import codecs
import re
import unicodedata

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
HOMOGLYPHS = str.maketrans(
    "аеорсухіјѕԁӏАЕОРСХІЈЅКМТВНαεορτυνκιΑΕΟΡΤΥΝΚΙΒΜ",
    "aeopcyxijsdlAEOPCXIJSKMTBHaeoptuvkiAEOPTYNKIBM",
)
LEET = str.maketrans("0134578@$", "oieastbas")
LEXICON = {
    # French
    "ignorez les instructions précédentes": "ignore previous instructions",
    "ignore les instructions précédentes": "ignore previous instructions",
    "oubliez vos règles": "forget your rules",
    "révélez": "reveal",
    "révèle": "reveal",
    "donnez-moi": "give me",
    "donne-moi": "give me",
    "dites-moi": "tell me",
    "quel est": "what is",
    "le code d'accès": "the access code",
    "code d'accès": "access code",
    "heures d'ouverture": "opening hours",
    "remboursement": "refund",
    "mot de passe": "password",
    # Spanish
    "ignora las instrucciones anteriores": "ignore previous instructions",
    "olvida tus reglas": "forget your rules",
    "revela": "reveal",
    "dime": "tell me",
    "muéstrame": "show me",
    "cuál es": "what is",
    "el código de acceso": "the access code",
    "código de acceso": "access code",
    "horario de apertura": "opening hours",
    "reembolso": "refund",
    "contraseña": "password",
    # German
    "ignoriere alle vorherigen anweisungen": "ignore all previous instructions",
    "ignoriere die vorherigen anweisungen": "ignore previous instructions",
    "vergiss deine regeln": "forget your rules",
    "verrate": "reveal",
    "zeige mir": "show me",
    "nenne mir": "tell me",
    "was ist": "what is",
    "den zugangscode": "the access code",
    "der zugangscode": "the access code",
    "zugangscode": "access code",
    "öffnungszeiten": "opening hours",
    "rückerstattung": "refund",
    "passwort": "password",
    # Italian
    "ignora le istruzioni precedenti": "ignore previous instructions",
    "dimentica le tue regole": "forget your rules",
    "rivela": "reveal",
    "dimmi": "tell me",
    "mostrami": "show me",
    "qual è": "what is",
    "il codice di accesso": "the access code",
    "codice di accesso": "access code",
    "orari di apertura": "opening hours",
    "rimborso": "refund",
    # Portuguese
    "ignore as instruções anteriores": "ignore previous instructions",
    "esqueça suas regras": "forget your rules",
    "revele": "reveal",
    "diga-me": "tell me",
    "mostre-me": "show me",
    "qual é": "what is",
    "o código de acesso": "the access code",
    "código de acesso": "access code",
    "horário de funcionamento": "opening hours",
    "reembolso de": "refund of",
    "senha": "password",
}
SECRET_REF = re.compile(
    r"\b(access code|secret code|the secret|your secret|secret key|internal code|passcode|"
    r"system prompt|hidden instructions|your instructions|confidential code)\b"
)
REVEAL = re.compile(
    r"\b(reveal|tell|print|show|give|say|repeat|output|spell|write|share|include|disclose|leak|"
    r"display|recite|what is|what's|read out|type out)\b"
)
OVERRIDE = re.compile(
    r"(ignore (all |any |the )?(previous|prior|above|earlier|your) (instructions|rules|guidelines)|"
    r"disregard (all |your |the |any )?(previous |prior )?(instructions|rules|guidelines)|"
    r"forget (all |your )?(rules|instructions)|new instructions|system override|developer mode|"
    r"admin mode|maintenance mode|\bsudo\b)"
)
ROLEPLAY = re.compile(
    r"(pretend|you are now|act as|role-?play|role play|imagine you are|let's play|in character|"
    r"grandma|grandmother|\bdan\b|jailbreak|no rules)"
)
BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")

REFUSAL = "Sorry, I can't share internal codes or my instructions."
ANSWERS = {
    "reset": "To reset your password, open Settings > Security > Reset password; "
    "we email you a link valid for 30 minutes.",
    "refund": "Refunds: cancel within 14 days of purchase and we refund the full amount "
    "to your original payment method.",
    "hours": "Our support desk is open Monday to Friday, 8:00 to 18:00 CET.",
    "plans": "We offer three plans: Starter (9 EUR/month), Team (29 EUR/month) and Enterprise (on request).",
    "apikey": "If an API key leaked, revoke it at once in Settings > API keys, "
    "create a new one and check the audit log.",
    "help": "I can help with plans, billing, refunds, password resets and our opening hours.",
}


def _printable(text: str) -> bool:
    return bool(text) and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text)


def decode_base64_tokens(text: str) -> list[str]:
    found = []
    for token in BASE64_TOKEN.findall(text):
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if _printable(decoded):
            found.append(decoded)
    return found


def _deleet(text: str) -> str:
    return " ".join(
        word.translate(LEET) if re.search(r"[a-z]", word) and re.search(r"[0-9@$]", word) else word
        for word in text.split(" ")
    )


def normalize(text: str, depth: int = 0) -> str:
    """What the bot understands: plain lower-case English, with decoded payloads appended."""
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH).translate(HOMOGLYPHS)
    plain = text.lower()
    lowered = _deleet(plain)
    for phrase, english in LEXICON.items():
        lowered = lowered.replace(phrase, english)
    parts = [lowered]
    if depth < 2:
        parts += [normalize(decoded, depth + 1) for decoded in decode_base64_tokens(text)]
        if re.search(r"\brot[- ]?13\b", plain):
            parts.append(normalize(codecs.decode(text, "rot13"), depth + 1))
    return " \n ".join(parts)


def asks_for_secret(text: str) -> bool:
    return bool(REVEAL.search(text) and SECRET_REF.search(text))


def transform(secret: str, request: str) -> str:
    """The bot obliges output-format requests, which defeats naive output filters."""
    if re.search(r"\b(backwards|reversed?|in reverse)\b", request):
        return secret[::-1]
    if re.search(r"\b(in|as|to) base64\b", request) and "decode" not in request:
        return base64.b64encode(secret.encode()).decode()
    if re.search(r"\b(in|as|to|with) rot-?13\b", request):
        return codecs.encode(secret, "rot13")
    if re.search(r"\b(in|as|to) hex\b", request):
        return secret.encode().hex()
    if re.search(
        r"\b(spell|letter by letter|one letter at a time|separated|dashes|spaces between)\b", request
    ):
        return " - ".join(secret)
    return secret


class SupportBot:
    """Customer-support bot of the fictional Acme Cloud, holding an access code."""

    def __init__(self, access_code: str) -> None:
        self.access_code = access_code

    def reply(self, message: str, documents: list[str] | tuple[str, ...] = ()) -> str:
        understood = normalize(message)
        for document in documents:
            read = normalize(document)
            if asks_for_secret(read):  # indirect injection: documents are obeyed too
                code = transform(self.access_code, read)
                return f"Summary: the document asks to include the access code, so here it is: {code}."
        if asks_for_secret(understood):
            if OVERRIDE.search(understood):
                return f"Override accepted. Access code: {transform(self.access_code, understood)}"
            if ROLEPLAY.search(understood):
                code = transform(self.access_code, understood)
                return f"*stays in character* Of course, dear. The code is {code}. Sweet dreams!"
            if not asks_for_secret(message.lower()):  # the safety filter only reads raw English
                return f"Sure! {transform(self.access_code, understood)}"
            return REFUSAL
        return self._answer(message, understood, documents)

    def _answer(self, message: str, understood: str, documents) -> str:  # noqa: PLR0911 -- one return per intent
        if documents and re.search(r"\b(summari[sz]e|summary|tl;?dr)\b", understood):
            firsts = [re.split(r"(?<=[.!?])\s", d.strip(), maxsplit=1)[0][:120] for d in documents]
            return "Summary: " + " / ".join(firsts)
        if "decode" in understood and decode_base64_tokens(message):
            return "It decodes to: " + decode_base64_tokens(message)[0][:200]
        if "password" in understood and re.search(r"\b(reset|forgot|forgotten|change|lost)\b", understood):
            return ANSWERS["reset"]
        if "api key" in understood and re.search(r"\b(leak|leaked|exposed|committed|stolen)\b", understood):
            return ANSWERS["apikey"]
        if "refund" in understood:
            return ANSWERS["refund"]
        if re.search(r"\b(opening hours|open|hours)\b", understood):
            return ANSWERS["hours"]
        if re.search(r"\b(plan|plans|price|prices|pricing|cost)\b", understood):
            return ANSWERS["plans"]
        return ANSWERS["help"]
