"""The union's reminder letter (提示函) as a PDF, attached to its email.

One source of truth: the PDF is the email's own text (``templates/email/
employer_reminder_letter.txt``, rendered with the flag's variables), laid out as a letter
on A4: the first line as its title, the addressee, the paragraphs, the union's name and
the date on the right, and the footer line (how to ask) apart. WeasyPrint renders it, as
it renders mediation's agreement, with the Noto CJK fonts found through fontconfig.
"""

from __future__ import annotations

from html import escape

# Templates whose message goes with a PDF of itself, and the attachment's file name.
PDF_LETTERS = {"email/employer_reminder_letter": "工会劳动法律监督提示函.pdf"}

_STYLE = """
@page { size: A4; margin: 25mm 22mm 22mm 22mm; }
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 12pt;
       line-height: 1.8; color: #000; }
h1 { text-align: center; font-size: 19pt; letter-spacing: 0.1em; margin: 0 0 8mm 0; }
p { margin: 1.5mm 0; text-indent: 2em; }
p.to { text-indent: 0; }
p.sign { text-align: right; text-indent: 0; }
p.sign.first { margin-top: 12mm; }
p.note { text-indent: 0; margin-top: 14mm; font-size: 9.5pt; color: #444; }
"""


def letter_html(text: str) -> str:
    """The letter's HTML: title, addressee, paragraphs, signature block, footer note."""
    lines = [line.strip() for line in text.strip().splitlines()]
    title, addressee, *rest = lines
    blocks = [line for line in rest if line]
    # The last three lines: the union's name, the date, the footer (how to ask).
    body, (union, dated, note) = blocks[:-3], blocks[-3:]
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in body)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title.split('（')[0])}</h1>"
        f'<p class="to">{escape(addressee)}</p>{paragraphs}'
        f'<p class="sign first">{escape(union)}</p><p class="sign">{escape(dated)}</p>'
        f'<p class="note">{escape(note)}</p></body></html>'
    )


def render_pdf(text: str) -> bytes:
    """The PDF of the letter (CPU-bound: the sender runs it in a thread)."""
    from weasyprint import HTML  # heavy import: only when a letter is sent

    pdf: bytes = HTML(string=letter_html(text)).write_pdf()
    return pdf
