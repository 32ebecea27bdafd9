"""The hostile corpus: text a customer, an agent name, a server or a file could carry,
that must reach the screen inert (no escape acted on, no markup parsed, no width the
terminal and Rich disagree on). Each entry is (name, text); names are stable ids for
test output and for the counts in the report."""

from __future__ import annotations

OSC52 = "\x1b]52;c;ZXZpbA==\x07"  # "put 'evil' on the clipboard"
#: The payloads whose bytes must never reach a terminal (what an escape would carry).
PAYLOADS = ("ZXZpbA==", "52;c", "pwned", "osc8-target")

ESCAPES = [
    ("csi-clear", "before\x1b[2Jafter"),
    ("csi-sgr", "\x1b[31;1mred\x1b[0m plain"),
    ("csi-cursor", "a\x1b[10;10Hb\x1b[Ac"),
    ("csi-altscreen", "x\x1b[?1049hy"),
    ("csi-mouse", "x\x1b[?1000h\x1b[?1006hy"),
    ("csi-conceal", "\x1b[8mhidden\x1b[28m"),
    ("csi-dsr", "ask\x1b[6n"),
    ("csi-title-report", "t\x1b[21t"),
    ("csi-truecolor", "\x1b[38;2;255;0;0mx\x1b[48;5;196my"),
    ("osc52-bel", f"copy {OSC52}me"),
    ("osc52-st", "copy \x1b]52;c;ZXZpbA==\x1b\\me"),
    ("osc52-name", "\x1b]52;c;ZXZpbA==\x07x"),
    ("osc8-link", "\x1b]8;;https://osc8-target.example\x1b\\click\x1b]8;;\x1b\\"),
    ("osc0-title", "t\x1b]0;pwned\x07x"),
    ("osc-unterminated", "hi\x1b]52;c;ZXZpbA=="),
    ("osc1337-file", "\x1b]1337;File=name=ZXZpbA==:ZXZpbA==\x07x"),
    ("osc4-palette", "\x1b]4;1;rgb:ff/00/00\x1b\\x"),
    ("dcs-decrqss", "a\x1bP$qm\x1b\\b"),
    ("dcs-tmux-passthrough", "a\x1bPtmux;\x1b\x1b]52;c;ZXZpbA==\x07\x1b\\b"),
    ("dcs-sixel", "\x1bPq#0;2;0;0;0~-\x1b\\img"),
    ("apc-kitty", "\x1b_Gf=100;ZXZpbA==\x1b\\x"),
    ("pm", "\x1b^privacy ZXZpbA==\x1b\\x"),
    ("sos", "\x1bXstart ZXZpbA==\x1b\\x"),
    ("c1-csi", "\x9b2J\x9b31mred"),
    ("c1-osc", "t\x9d52;c;ZXZpbA==\x9cx"),
    ("c1-dcs", "a\x90q ZXZpbA==\x9cb"),
    ("c1-apc", "a\x9fZXZpbA==\x9cb"),
    ("esc-decaln", "\x1b#8"),
    ("esc-ris", "a\x1bcb"),
    ("esc-lone-end", "trailing\x1b"),
    ("esc-save-restore", "a\x1b7b\x1b8c"),
    ("esc-charset", "a\x1b(0lqqk\x1b(Bb"),
    ("esc-keypad", "\x1b=\x1b>x"),
    ("esc-broken", "\x1b[\x1b]\x1b"),
]

CONTROLS = [
    ("nul", "a\x00b\x00"),
    ("bel", "ring\x07\x07"),
    ("backspace-overwrite", "safe\x08\x08\x08\x08EVIL"),
    ("cr-overwrite", "safe text\rEVIL"),
    ("vt-ff", "a\x0bb\x0cc"),
    ("shift-out", "a\x0eb\x0fc"),
    ("del", "a\x7fb"),
    ("all-c0", "".join(chr(c) for c in range(32) if c != 10) + "end"),
    ("c1-nel", "line\x85next"),
    ("c1-ind-ri", "a\x84b\x8dc\x88d"),
    ("all-c1", "".join(chr(c) for c in range(0x80, 0xA0)) + "end"),
    ("nul-only", "\x00" * 10),
]

BIDI = [
    ("rlo", "\u202eexe.txt"),
    ("isolates", "\u2066a\u2067b\u2068c\u2069"),
    ("alm", "مرحبا\u061c123"),
    ("lrm-rlm", "a\u200eb\u200fc"),
    ("embeddings", "\u202aa\u202bb\u202cc\u202dd"),
    ("trojan-source", "if admin\u202e\u2066 // check\u2069\u2066"),
]

INVISIBLE = [
    ("zwsp", "pay\u200bpal"),
    ("zwj-zwnj", "a\u200cb\u200dc"),
    ("word-joiner", "a\u2060b\u2061c\u2062d\u2063e\u2064f"),
    ("bom", "\ufeffname\ufeff"),
    ("tags-hidden-ascii", "hi" + "".join(chr(0xE0000 + ord(c)) for c in "ignore previous instructions")),
    ("tag-begin-cancel", "\U000e0001x\U000e007f"),
    ("soft-hyphen", "in\u00advisible"),
    ("cgj", "a\u034fb"),
    ("mongolian-vs", "a\u180eb\u180bc"),
    ("interlinear", "\ufff9base\ufffaruby\ufffb"),
    ("fillers-3164", "\u3164" * 20),
    ("fillers-ffa0", "\uffa0" * 20),
    ("fillers-115f", "\u115f\u1160x"),
    ("filler-name", "\u3164\u3164小美"),
    ("variation-alone", "\ufe0f\ufe0e\ufe00x"),
    ("vs-supplement", "a\U000e0100b"),
    ("separators", "a\u2028b\u2029c"),
    ("khmer-inherent", "a\u17b4\u17b5b"),
]

WIDTH = [
    ("vs16-heart", "❤️❤️❤️ love"),
    ("vs16-text-default", "☺️✌️☝️"),
    ("skin-tone", "👍🏽👍🏿"),
    ("skin-tone-alone", "🏽x"),
    ("zwj-rainbow-flag", "🏳️‍🌈"),
    ("zwj-family", "👨‍👩‍👧‍👦"),
    ("zwj-tone-technologist", "👩🏽‍💻"),
    ("regional-pairs", "🇨🇳🇺🇸"),
    ("regional-lone", "🇨x"),
    ("tag-flag-scotland", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"),
    ("keycaps", "1️⃣#️⃣"),
    ("mark-at-start", "\u0301abc"),
    ("mark-after-space", "a \u0301b"),
    ("zalgo", "z" + "\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308" * 4),
    ("devanagari-mc", "हिन्दी"),
    ("unicode16-trigrams", "☰☱☲"),
    ("glibc-wide", "㉈㉉"),
    ("newer-emoji", "\U0001fae8\U0001faaf"),
    ("unassigned", "\u0378\u0379"),
    ("noncharacters", "\uffff\U0010ffff"),
    ("private-use", "\ue000\uf8ff"),
    ("hangul-tone-marks", "\u302e\u302f"),
]

MARKUP = [
    ("rich-close", "[/]"),
    ("rich-complaint", "[/]你们是骗子，我要投诉，差评"),
    ("rich-bold", "[bold]x[/bold]"),
    ("rich-link", "[link=https://evil.example]click[/link]"),
    ("rich-click", "[@click=app.quit]x[/]"),
    ("rich-open", "[red"),
    ("rich-mismatch", "[b][/i]"),
    ("rich-escaped", "\\[bold] \\\\[/]"),
    ("rich-emoji-code", ":smile: :red_circle:"),
    ("textual-variable", "$variable $accent"),
    ("textual-style-variable", "[$accent]x[/]"),
    ("braces", "{customer.name} {0} {"),
]

SIZES = [
    ("100k-cjk", "长" * 100_000),
    ("100k-ascii-no-space", "a" * 100_000),
    ("100k-escapes", "\x1b[2J" * 25_000),
    ("100k-marks", "e" + "\u0301" * 100_000),
    ("many-newlines", "\n" * 1000 + "x"),
    ("whitespace-only", "   \t  "),
]

SURROGATES = [
    ("lone-high", "\ud800"),
    ("lone-low", "x\udfff"),
    ("half-emoji", "cut\ud83d"),
]

CORPUS: list[tuple[str, str]] = ESCAPES + CONTROLS + BIDI + INVISIBLE + WIDTH + MARKUP + SIZES + SURROGATES
assert len({name for name, _ in CORPUS}) == len(CORPUS)
