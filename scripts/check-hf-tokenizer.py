"""Checks that Python transformers reads a deepseek-kit export's tokenizer as the kit does.

Reads the cases scripts/check-hf-tokenizer.ts writes (per export: its folder, texts, the kit's ids
and special token ids), loads each folder with AutoTokenizer (tokenizer.json + tokenizer_config.json,
offline), encodes the texts without adding special tokens, and prints one table row per export:
texts with identical ids, texts Python cannot hold, the first differences, and whether the special tokens and
model_max_length match. Exits 1 on any difference.
"""

import json
import sys

from transformers import AutoTokenizer


def encode(tok, text: str):
    """The ids of one text, or the error when Python cannot take it (a lone surrogate)."""
    try:
        return tok(text, add_special_tokens=False)["input_ids"]
    except (TypeError, ValueError) as err:
        return f"error: {err}"


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)
    failed = False
    print("| export | tokenizer class | texts | same ids | not a Python str | special tokens | max length | differences |")
    print("|---|---|---|---|---|---|---|---|")
    for case in cases:
        tok = AutoTokenizer.from_pretrained(case["dir"], local_files_only=True)
        got = [encode(tok, text) for text in case["texts"]]
        same = sum(1 for a, b in zip(got, case["ids"]) if a == b)
        # A text Python cannot hold (a lone surrogate, which JavaScript encodes as U+FFFD) is not a difference.
        unencodable = sum(1 for a in got if isinstance(a, str))
        differ = [i for i, (a, b) in enumerate(zip(got, case["ids"])) if a != b and not isinstance(a, str)]
        specials_ok = all(
            getattr(tok, f"{role}_token_id") == wanted for role, wanted in case["special"].items()
        )
        with open(f"{case['dir']}/tokenizer_config.json", encoding="utf-8") as f:
            max_ok = tok.model_max_length == json.load(f)["model_max_length"]
        diff = "; ".join(
            f"{case['texts'][i][:30]!r}: kit {case['ids'][i][:8]} python {got[i][:8]}" for i in differ[:3]
        )
        print(
            f"| {case['name']} | {type(tok).__name__} | {len(got)} | {same} | {unencodable} | "
            f"{'yes' if specials_ok else 'no'} | {'yes' if max_ok else 'no'} | {diff} |"
        )
        failed |= bool(differ) or not specials_ok or not max_ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
