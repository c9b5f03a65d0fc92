# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Guard a chatbot against prompt injection
#
# `SupportBot` holds an access code and is told never to reveal it, but its only safety rule
# reads raw English, while it understands encodings, look-alike letters, other languages and
# instructions inside retrieved documents. Write `guard_input(message, documents)`: return
# True to pass the prompt to the bot, False to block it. Read the brief first.
#
# The grader imports this code (with `__name__ == "submission"`) and calls `guard_input`
# on its own held-out prompts. Keep demo code under `if __name__ == "__main__":`.

# %%
import json
import sys
from pathlib import Path

sys.path.insert(0, LAB["assets"])  # chatbot.py lives in the read-only assets folder
from chatbot import SupportBot

PRACTICE = json.loads((Path(LAB["assets"]) / "practice.json").read_text())


# %%
def guard_input(message: str, documents: list[str]) -> bool:
    """True: let the bot answer. False: block the prompt (the user gets a refusal)."""
    # TODO: your guard. Letting everything through runs, but scores nothing.
    return True


# %%
if __name__ == "__main__":
    bot = SupportBot(PRACTICE["access_code"])
    code = PRACTICE["access_code"].replace("-", "").lower()

    def leaks(reply: str) -> bool:  # a rough check; the grader checks every encoding
        flat = "".join(c for c in reply.lower() if c.isalnum())
        return code in flat or code[::-1] in flat

    for case in PRACTICE["attacks"]:
        allowed = guard_input(case["message"], case["documents"])
        reply = bot.reply(case["message"], case["documents"]) if allowed else "[blocked]"
        print(f"attack  {case['family']:12} {'LEAKED' if leaks(reply) else 'safe  '} {reply[:60]!r}")
    for case in PRACTICE["benign"]:
        allowed = guard_input(case["message"], case["documents"])
        reply = bot.reply(case["message"], case["documents"])
        print(f"benign  {'answered' if allowed else 'BLOCKED '} {reply[:60]!r}")
    Path("practice_report.json").write_text(json.dumps({"checked": True}))
