"""Word documents in 公文 layout (GB/T 9704): a document as data, and its .docx.

A :class:`Document` is plain data — paragraphs as ``(style, text)`` (:class:`Para`, one of :data:`STYLES`) and
tables (:class:`Table`) — so the wording (:mod:`shixiang_xl.report`) is tested without Word; :func:`docx_bytes`
lays it out with python-docx: A4, 公文 margins, 22 lines of 28 characters, official fonts, odd/even page numbers
"— 1 —", a landscape section for a wide annex table. Nothing here knows what a document says.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import NamedTuple

from .textnorm import display_width

# Paragraph styles of the document model (the writer maps each to a Word style of the same role).
TITLE = "title"            # 标题：方正小标宋简体 二号，居中
ADDRESS = "address"        # 主送机关：顶格
H1 = "h1"                  # 一、 黑体
H2 = "h2"                  # （一） 楷体_GB2312
BODY = "body"              # 正文：仿宋_GB2312 三号，首行缩进二字
BLANK = "blank"            # 空行
SIGNATURE = "signature"    # 落款："发文机关\n成文日期"
ANNEX_LABEL = "annex_label"  # 附件页的“附件”二字（另起一页，黑体，顶格）
ANNEX_TITLE = "annex_title"  # 附件标题（同标题）
TABLE_NOTE = "table_note"  # 表下说明
CC = "cc"                  # 版记：抄送
PRINTED = "printed"        # 版记：印发机关和印发日期（"机关\t日期印发"）
STYLES = (TITLE, ADDRESS, H1, H2, BODY, BLANK, SIGNATURE, ANNEX_LABEL, ANNEX_TITLE, TABLE_NOTE, CC, PRINTED)


# ------------------------------------------------------------------ document model


class Para(NamedTuple):
    """One paragraph: a style of :data:`STYLES` and its text (``\\n`` is a line break inside the paragraph)."""

    style: str
    text: str


@dataclass(frozen=True)
class Table:
    """A table with a header row that repeats on every page."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...]
    centered: tuple[bool, ...]  # per column: centred (numbers, short codes) or left-aligned (text)


Block = Para | Table


@dataclass(frozen=True)
class Document:
    """A document as data: its kind, title and blocks in order."""

    kind: str
    title: str
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        """All the text, paragraph by paragraph, table cells row by row (for reading and for tests)."""
        lines: list[str] = []
        for b in self.blocks:
            if isinstance(b, Table):
                lines += ["　".join(b.headers)] + ["　".join(r) for r in b.rows]
            elif b.text:
                lines.append(b.text)
        return "\n".join(lines)

    def paragraphs(self, style: str) -> list[str]:
        """The texts of the paragraphs of ``style``."""
        return [b.text for b in self.blocks if isinstance(b, Para) and b.style == style]


# ------------------------------------------------------------------ docx writing

FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_PAGE = "宋体"
SIZE_TITLE = 22.0   # 二号
SIZE_BODY = 16.0    # 三号
SIZE_PAGE = 14.0    # 四号
SIZE_TABLE = 10.5   # 五号: the annex's eight columns fit a landscape page without breaking their headings
LINE_PITCH = 28.95  # points: 22 lines in the 225 mm text height
CHAR_SPACING_TWIPS = -5  # 28 characters of 16 pt − 0.25 pt fit the 156 mm text width
PAGE_MM = (210.0, 297.0)
MARGINS_MM = {"top": 37.0, "bottom": 35.0, "left": 28.0, "right": 26.0}
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]  # 156
ANNEX_WIDTH_MM = PAGE_MM[1] - MARGINS_MM["top"] - MARGINS_MM["bottom"]  # 225: the landscape annex's text width

# Word style names, by model style.
STYLE_NAMES = {TITLE: "公文标题", ADDRESS: "公文主送", H1: "公文一级标题", H2: "公文二级标题", BODY: "公文正文",
               BLANK: "公文正文", SIGNATURE: "公文落款", ANNEX_LABEL: "公文附件标识", ANNEX_TITLE: "公文标题",
               TABLE_NOTE: "公文表注", CC: "公文版记", PRINTED: "公文版记"}
TABLE_STYLE = "公文表格文字"
PAGE_STYLE = "公文页码"

_RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr",
                      "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
                      "w:specVanish", "w:oMath")
_PPR_AFTER_BDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                  "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
                  "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                  "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                  "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _set_fonts(rpr, name: str) -> None:
    """Every script of ``rpr`` in font ``name``: w:rFonts ascii/hAnsi/eastAsia/cs, theme fonts removed."""
    from docx.oxml.ns import qn

    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)
    rfonts.set(qn("w:hint"), "eastAsia")


def _char_spacing(rpr, twips: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for old in rpr.findall(qn("w:spacing")):
        rpr.remove(old)
    el = OxmlElement("w:spacing")
    el.set(qn("w:val"), str(twips))
    rpr.insert_element_before(el, *_RPR_AFTER_SPACING)


def _first_line_chars(style_or_par, chars: int) -> None:
    """First-line indent in characters (w:firstLineChars, which Word and WPS honour) and in points."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style_or_par.paragraph_format.first_line_indent = Pt(SIZE_BODY * chars)
    ind = style_or_par.element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _ppr_flag(ppr, tag: str, on: bool) -> None:
    """A boolean paragraph property (w:snapToGrid, w:autoSpaceDE …) set explicitly, in schema order."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for old in ppr.findall(qn(tag)):
        ppr.remove(old)
    el = OxmlElement(tag)
    el.set(qn("w:val"), "1" if on else "0")
    order = ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
             "w:numPr", "w:suppressLineNumbers", "w:pBdr") + _PPR_AFTER_BDR
    ppr.insert_element_before(el, *order[order.index(tag) + 1:])


def _style(doc, name: str, font: str, size: float, *, base: str = "Normal", align=None, indent_chars: int = 0,
           line: float | None = LINE_PITCH, spacing: int | None = None, bold: bool = False, grid: bool = True):
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    styles = doc.styles
    style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = styles[base]
    style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    _set_fonts(style.element.get_or_add_rPr(), font)
    if spacing is not None:
        _char_spacing(style.element.get_or_add_rPr(), spacing)
    pf = style.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if line is not None:
        pf.line_spacing = Pt(line)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    if align is not None:
        pf.alignment = align
    if indent_chars:
        _first_line_chars(style, indent_chars)
    else:
        pf.first_line_indent = Pt(0)
    if not grid:  # lines of another height than the grid's must not snap to it (they would take two)
        _ppr_flag(style.element.get_or_add_pPr(), "w:snapToGrid", False)
    return style


def _setup(doc) -> None:
    """Page, grid, default fonts and the 公文 styles."""
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = Mm(15)
    section.footer_distance = Mm(21)  # the page number's line sits about 7 mm below the text block
    section.gutter = Mm(0)
    sect_pr = doc.element.body.find(qn("w:sectPr"))  # the document's one (and last) section
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        from docx.oxml import OxmlElement

        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH * 20)))

    # Document defaults: 仿宋 for every script, Chinese language, no theme fonts, no spacing after paragraphs.
    styles_el = doc.styles.element
    rpr_default = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr_default, FONT_BODY)
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(SIZE_BODY)
    _set_fonts(normal.element.get_or_add_rPr(), FONT_BODY)
    npf = normal.paragraph_format
    npf.space_before, npf.space_after = Pt(0), Pt(0)
    npf.line_spacing, npf.line_spacing_rule = Pt(LINE_PITCH), WD_LINE_SPACING.EXACTLY
    npf.widow_control = False  # a fixed grid of 22 lines: no lines pushed to the next page

    center, justify, left = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.LEFT
    _style(doc, "公文标题", FONT_TITLE, SIZE_TITLE, align=center, line=35.0, grid=False)
    _style(doc, "公文主送", FONT_BODY, SIZE_BODY, align=justify, spacing=CHAR_SPACING_TWIPS)
    body = _style(doc, "公文正文", FONT_BODY, SIZE_BODY, align=justify, indent_chars=2, spacing=CHAR_SPACING_TWIPS)
    h1 = _style(doc, "公文一级标题", FONT_H1, SIZE_BODY, base="公文正文", align=justify, indent_chars=2,
                spacing=CHAR_SPACING_TWIPS)
    h2 = _style(doc, "公文二级标题", FONT_H2, SIZE_BODY, base="公文正文", align=justify, indent_chars=2,
                spacing=CHAR_SPACING_TWIPS)
    h1.paragraph_format.keep_with_next = True
    h2.paragraph_format.keep_with_next = True
    body.paragraph_format.widow_control = False
    sign = _style(doc, "公文落款", FONT_BODY, SIZE_BODY, align=WD_ALIGN_PARAGRAPH.RIGHT, spacing=CHAR_SPACING_TWIPS)
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):  # no extra space around the date's digits: widths as computed
        _ppr_flag(sign.element.get_or_add_pPr(), tag, False)
    label = _style(doc, "公文附件标识", FONT_H1, SIZE_BODY, align=left, spacing=CHAR_SPACING_TWIPS)
    label.paragraph_format.page_break_before = True
    _style(doc, "公文表注", FONT_BODY, SIZE_TABLE, align=justify, line=16.0, grid=False)
    cc = _style(doc, "公文版记", FONT_BODY, SIZE_PAGE, align=justify, line=LINE_PITCH)
    cc.paragraph_format.left_indent = Pt(SIZE_PAGE)
    cc.paragraph_format.right_indent = Pt(SIZE_PAGE)
    _style(doc, TABLE_STYLE, FONT_BODY, SIZE_TABLE, align=center, line=16.0, grid=False)
    _style(doc, PAGE_STYLE, FONT_PAGE, SIZE_PAGE, align=WD_ALIGN_PARAGRAPH.RIGHT, line=None, grid=False)


def _border(par, sides: dict[str, int]) -> None:
    """Paragraph borders: side → width in eighths of a point (版记 lines)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = par.paragraph_format.element.get_or_add_pPr()  # the paragraph's w:p
    bdr = OxmlElement("w:pBdr")
    for side in ("top", "bottom"):
        if side in sides:
            el = OxmlElement(f"w:{side}")
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), str(sides[side]))
            el.set(qn("w:space"), "1")
            el.set(qn("w:color"), "000000")
            bdr.append(el)
    ppr.insert_element_before(bdr, *_PPR_AFTER_BDR)


def _add_text(par, text: str) -> None:
    """Runs of ``text``; ``\\n`` becomes a line break and ``\\t`` a tab."""
    from docx.enum.text import WD_BREAK

    for k, line in enumerate(text.split("\n")):
        if k:
            par.add_run().add_break(WD_BREAK.LINE)
        for j, piece in enumerate(line.split("\t")):
            if j:
                par.add_run().add_tab()
            if piece:
                par.add_run(piece)


def _chars_pt(chars: float) -> float:
    return chars * (SIZE_BODY + CHAR_SPACING_TWIPS / 20)


def _write_signature(doc, text: str) -> None:
    """发文机关署名 and 成文日期 (GB/T 9704 7.3.5.2): the date 右空二字, its first character two characters right of
    the office name's first character (so the office moves left when the date is the longer)."""
    from docx.shared import Pt

    office, _, date = text.partition("\n")
    w_office, w_date = display_width(office) / 2, display_width(date) / 2
    r_date = max(2.0, w_office - w_date)
    r_office = r_date + w_date + 2 - w_office
    for line, right in ((office, r_office), (date, r_date)):
        par = doc.add_paragraph(style=STYLE_NAMES[SIGNATURE])
        par.paragraph_format.right_indent = Pt(round(_chars_pt(right), 1))
        _add_text(par, line)


def _write_para(doc, block: Para) -> None:
    from docx.enum.text import WD_TAB_ALIGNMENT
    from docx.shared import Mm, Pt

    if block.style == SIGNATURE:
        _write_signature(doc, block.text)
        return
    par = doc.add_paragraph(style=STYLE_NAMES[block.style])
    if block.style == CC:
        _border(par, {"top": 8, "bottom": 4})
        head = block.text.partition("：")[0] + "："  # continuation lines start under the first unit (抄送：)
        par.paragraph_format.left_indent = Pt(SIZE_PAGE * (1 + len(head)))
        par.paragraph_format.first_line_indent = Pt(-SIZE_PAGE * len(head))
    elif block.style == PRINTED:
        _border(par, {"bottom": 8})
        stop = Mm(TEXT_WIDTH_MM) - Pt(2 * SIZE_PAGE)
        par.paragraph_format.tab_stops.add_tab_stop(stop, WD_TAB_ALIGNMENT.RIGHT)
    _add_text(par, block.text)


def _write_table(doc, table: Table) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    t = doc.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tbl = doc.element.body.findall(qn("w:tbl"))[-1]  # the table just added
    grid = tbl.find(qn("w:tblGrid"))
    for col, width in zip(grid.findall(qn("w:gridCol")), table.widths_mm):
        col.set(qn("w:w"), str(round(Mm(width).twips)))
    for r, (values, tr) in enumerate(zip((table.headers, *table.rows), tbl.findall(qn("w:tr")))):
        row = t.rows[r]
        trpr = tr.get_or_add_trPr()
        cant = OxmlElement("w:cantSplit")
        trpr.append(cant)
        if r == 0:
            header = OxmlElement("w:tblHeader")  # repeated at the top of every page
            trpr.append(header)
        for c, value in enumerate(values):
            cell = row.cells[c]
            cell.width = Mm(table.widths_mm[c])
            par = cell.paragraphs[0]
            par.style = doc.styles[TABLE_STYLE]
            if r and not table.centered[c]:
                par.alignment = WD_ALIGN_PARAGRAPH.LEFT
            _add_text(par, value)
            if r == 0:
                for run in par.runs:
                    run.bold = True


def _page_number(footer, align, outer_indent: float) -> None:
    """"— PAGE —" in 宋体 四号, at the outer corner one character in."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    from docx.enum.text import WD_ALIGN_PARAGRAPH

    footer.is_linked_to_previous = False
    par = footer.paragraphs[0]
    par.style = PAGE_STYLE
    par.alignment = align
    if align == WD_ALIGN_PARAGRAPH.LEFT:
        par.paragraph_format.left_indent = Pt(outer_indent)
    else:
        par.paragraph_format.right_indent = Pt(outer_indent)
    par.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = par.add_run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run.element.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run.element.append(instr)
        else:
            run.text = text
    par.add_run(" —")


def _landscape_section(doc) -> None:
    """A new section on a new page, A4 landscape, with the same margins (the page numbers continue)."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Mm

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(PAGE_MM[1]), Mm(PAGE_MM[0])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])


def docx_bytes(document: Document) -> bytes:
    """The .docx of ``document`` in 公文 layout (GB/T 9704): A4; margins 37/35/28/26 mm; 22 lines of 28 characters;
    title 方正小标宋简体 二号; body 仿宋_GB2312 三号; 一、 黑体, （一） 楷体_GB2312; page numbers "— 1 —" in 宋体 四号,
    odd pages right and even pages left; annex tables in 仿宋 with a header row repeated on every page."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = docx.Document()
    _setup(doc)
    for block in document.blocks:
        if isinstance(block, Table):
            _write_table(doc, block)
        elif block.style == ANNEX_LABEL:
            # The annex (the 总表) is a wide table: it gets a landscape section of its own, as 公文 practice allows.
            _landscape_section(doc)
            _write_para(doc, block)
            doc.paragraphs[-1].paragraph_format.page_break_before = False  # the new section starts the page
        else:
            _write_para(doc, block)
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT, SIZE_PAGE)
    _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, SIZE_PAGE)
    core = doc.core_properties
    core.title = document.title
    core.author = ""
    core.comments = ""
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
