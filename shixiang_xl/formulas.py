"""Formulas and error values a unit left in a returned workbook: where they are, and what they could do.

python-calamine gives a cell's stored result only, never its formula, and an empty string for an error value
(``#VALUE!``, ``#REF!``, ``#N/A`` …). Both must still be seen: a DDE call (``=cmd|'/c calc'!A0``) or a web or
external-link formula is live in any copy we write from the unit's file, its stored result may come from another
workbook or be stale, and an error value is not an empty cell. :func:`marked_cells` lists every formula and error
value of an .xlsx/.xlsm (formulas also of an .ods) by sheet and A1 cell, read from the bytes after intake's
inspection has refused DTDs, bombs and far-away cells; :func:`formula_risk` says what kind a formula is.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from xml.parsers import expat

from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

MAX_FORMULA_SHOWN = 60

# Functions the report workbook itself uses, and harmless arithmetic ones: a formula made of only these, with no
# reference outside the workbook, is inert. Anything else (WEBSERVICE, HYPERLINK, CALL, REGISTER, RTD, INFO …)
# is not kept live in a copy we write.
SAFE_FUNCTIONS = frozenset("""
ABS AND AVERAGE AVERAGEIF CONCATENATE COUNT COUNTA COUNTBLANK COUNTIF COUNTIFS DATE DAY IF IFERROR IFNA INDEX INT
ISBLANK ISERR ISERROR ISLOGICAL ISNA ISNUMBER ISTEXT LEFT LEN LOWER MATCH MAX MEDIAN MID MIN MOD MONTH N NOT OR RIGHT
ROUND ROUNDDOWN ROUNDUP SUBTOTAL SUM SUMIF SUMIFS SUMPRODUCT TEXT TRIM UPPER VALUE YEAR
""".split())
_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")
_STRING = re.compile(r'"(?:[^"]|"")*"')
_EXTERNAL = re.compile(r"\[[^\]]*\]|[A-Za-z]:\\|\\\\|https?:|file:", re.IGNORECASE)


def formula_risk(formula: str) -> str:
    """``dde`` (calls another program), ``external`` (reads another workbook or the web), ``function`` (a function
    outside :data:`SAFE_FUNCTIONS`) or ``""`` (plain arithmetic on this workbook)."""
    body = _STRING.sub('""', formula)  # text inside quotes is data, not code
    if "|" in body:
        return "dde"
    if _EXTERNAL.search(body):
        return "external"
    names = {n.upper().rpartition(".")[2] for n in _FUNCTION.findall(body)}
    if any(n in ("WEBSERVICE", "FILTERXML", "RTD", "CALL", "REGISTER", "REGISTER.ID", "EXEC") for n in names):
        return "external"
    if names - SAFE_FUNCTIONS:
        return "function"
    return ""


def shown(formula: str) -> str:
    """The formula as a unit may read it in a message: one line, cut to a readable length."""
    text = "=" + formula.lstrip("=")
    text = " ".join(text.split())
    return text if len(text) <= MAX_FORMULA_SHOWN else text[:MAX_FORMULA_SHOWN] + "…"


def marked_cells(data: bytes, kind: str) -> dict[str, dict[str, str]]:
    """Sheet name → A1 cell → ``"=" + formula`` for a formula cell, or the error value (``"#VALUE!"``) for a cell
    that holds one and no formula; for .xlsx/.xlsm and .ods bytes.

    Cells of a shared formula (Excel writes the text once, on its first cell) get that text. Other formats give
    an empty mapping: .xls is read through LibreOffice's .xlsx when it has to be converted.
    """
    if kind not in ("xlsx", "xlsm", "ods"):
        return {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if kind == "ods":
            return _ods_formulas(zf.read("content.xml"))
        out: dict[str, dict[str, str]] = {}
        for name, part in _xlsx_sheet_parts(zf).items():
            try:
                xml = zf.read(part)
            except KeyError:
                continue
            if _HAS_F.search(xml):
                found = _plain_xlsx_marks(xml)
                if found is None:
                    found = _xlsx_formulas(xml)
                if found:
                    out[name] = found
        return out


_PLAIN_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*?)(/?)>')
_PLAIN_F = re.compile(rb'<f(\s[^>]*?)?(?:/>|>([^<]*)</f>)')
_PLAIN_V = re.compile(rb'<v>([^<]*)</v>')
_SHARED_ATTR = re.compile(rb'\bt="shared"')
_SI_ATTR = re.compile(rb'\bsi="([0-9]+)"')


_ODD_CELL = re.compile(rb"<c[\t\r\n>/]")


def _plain_xlsx_marks(xml: bytes) -> dict[str, str] | None:
    """What :func:`_xlsx_formulas` finds, for a sheet as every spreadsheet program writes it (no prefixes, DTD or
    comments; every cell begins ``<c `` and a cell holding a formula or an error value has ``r="A1"`` first): only
    the cells around an ``<f`` or a ``t="e"`` are looked at, found by a byte search, instead of a Python call per
    element. None when the sheet is written otherwise (the expat reading decides)."""
    if b"<!" in xml or b":c " in xml or b":f" in xml or _ODD_CELL.search(xml):
        return None
    places = []
    for needle in (b"<f", b't="e"'):
        pos = xml.find(needle)
        while pos >= 0:
            places.append(pos)
            pos = xml.find(needle, pos + 1)
    places.sort()
    out: dict[str, str] = {}
    shared: dict[bytes, str] = {}
    done = -1  # where the last cell looked at starts: each cell once, in the sheet's order (shared formulas)
    for place in places:
        start = xml.rfind(b"<c ", 0, place)  # every cell begins so: the one holding this mark begins here
        if start < 0 or start == done:
            continue
        m = _PLAIN_CELL.match(xml, start)
        if m is None:
            return None
        if m.group(3):  # <c …/>: empty
            continue
        following = xml.find(b"<c ", m.end())
        end = following if following >= 0 else len(xml)
        close = xml.find(b"</c>", m.end(), end)
        end = close if close >= 0 else end
        if place >= end:  # after the cell's end: between cells
            continue
        done = start
        body = xml[m.end():end]
        ref = m.group(1).decode("ascii")
        f = _PLAIN_F.search(body) if b"<f" in body else None
        if f is not None:
            attrs, text = f.group(1) or b"", html.unescape((f.group(2) or b"").decode("utf-8")).strip()
            if _SHARED_ATTR.search(attrs) and (si := _SI_ATTR.search(attrs)):
                text = shared.setdefault(si.group(1), text) if text else shared.get(si.group(1), "")
            out[ref] = "=" + text
        elif b't="e"' in m.group(2):
            v = _PLAIN_V.search(body)
            out[ref] = (html.unescape(v.group(1).decode("utf-8")).strip() if v else "") or "#VALUE!"
    return out


_HAS_F = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]|\st\s*=\s*[\"']e[\"']")
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _attr(attrs: dict[str, str], local: str) -> str | None:
    for key, value in attrs.items():
        if _local(key) == local:
            return value
    return None


def _parser() -> expat.XMLParserType:
    parser = expat.ParserCreate()

    def refuse(*_args: object) -> None:
        raise ValueError("DTD")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _elements(xml: bytes, wanted: str) -> list[dict[str, str]]:
    """The attributes of every element named ``wanted`` (any prefix)."""
    found: list[dict[str, str]] = []
    parser = _parser()

    def start(name: str, attrs: dict[str, str]) -> None:
        if _local(name) == wanted:
            found.append(attrs)

    parser.StartElementHandler = start
    parser.Parse(xml, True)
    return found


def _xlsx_sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the zip member holding it, through the workbook's relationships."""
    targets = {}
    for rel in _elements(zf.read("xl/_rels/workbook.xml.rels"), "Relationship"):
        target = (rel.get("Target") or "").replace("\\", "/")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        targets[rel.get("Id")] = path
    members = {i.filename.lower(): i.filename for i in zf.infolist()}
    out = {}
    for sheet in _elements(zf.read("xl/workbook.xml"), "sheet"):
        rid = sheet.get(f"{{{_RELS}}}id") or _attr(sheet, "id")
        part = targets.get(rid)
        if part and sheet.get("name") is not None and part.lower() in members:
            out[sheet["name"]] = members[part.lower()]
    return out


def _xlsx_formulas(xml: bytes) -> dict[str, str]:
    """A1 → "=formula" or "#ERROR" of one worksheet's XML (cells placed as readers place them, references or not)."""
    out: dict[str, str] = {}
    shared: dict[str, str] = {}
    state = {"row": 0, "col": 0, "ref": "", "in_f": False, "si": None, "text": [], "error": False, "in_v": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "row":
            r = _attr(attrs, "r")
            state["row"] = int(r) - 1 if r and r.strip().isdigit() else state["row"] + 1
            state["col"] = -1
        elif local == "c":
            ref = _attr(attrs, "r")
            if ref:
                try:
                    state["row"], state["col"] = xl_cell_to_rowcol(ref.strip().replace("$", ""))
                except (ValueError, AttributeError):
                    state["col"] += 1
            else:
                state["col"] += 1
            state["ref"] = xl_rowcol_to_cell(state["row"], max(0, state["col"]))
            state["error"] = _attr(attrs, "t") == "e"
        elif local == "v" and state["error"]:
            state["in_v"], state["text"] = True, []
        elif local == "f":
            state["in_f"], state["text"] = True, []
            state["si"] = _attr(attrs, "si") if _attr(attrs, "t") == "shared" else None

    def end(name: str) -> None:
        local = _local(name)
        if local == "f" and state["in_f"]:
            state["in_f"] = False
            text = "".join(state["text"]).strip()
            si = state["si"]
            if si is not None:
                text = shared.setdefault(si, text) if text else shared.get(si, "")
            out[state["ref"]] = "=" + text
        elif local == "v" and state["in_v"]:
            state["in_v"] = False
            out.setdefault(state["ref"], "".join(state["text"]).strip() or "#VALUE!")

    def chars(data: str) -> None:
        if state["in_f"] or state["in_v"]:
            state["text"].append(data)

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(xml, True)
    return out


def _ods_formulas(xml: bytes) -> dict[str, dict[str, str]]:
    """Sheet name → A1 → "=formula" of an ODS content.xml (with LibreOffice's row and column repeat counts)."""
    out: dict[str, dict[str, str]] = {}
    state = {"sheet": "", "row": 0, "rows": 1, "col": 0, "depth": 0}

    def count(text: str | None) -> int:
        try:
            return max(1, int(text)) if text else 1
        except ValueError:
            return 1

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "table":
            state["depth"] += 1
            if state["depth"] == 1:
                state.update(sheet=_attr(attrs, "name") or "", row=0, rows=0, col=0)
        elif state["depth"] != 1:
            return
        elif local == "table-row":
            state["row"] += state["rows"]
            state["rows"] = count(_attr(attrs, "number-rows-repeated"))
            state["col"] = 0
        elif local in ("table-cell", "covered-table-cell"):
            formula = _attr(attrs, "formula")
            if formula:
                text = formula.split(":", 1)[1] if re.match(r"^[a-z]+:", formula) else formula
                out.setdefault(state["sheet"], {})[xl_rowcol_to_cell(state["row"], state["col"])] = "=" + text.lstrip("=")
            state["col"] += count(_attr(attrs, "number-columns-repeated"))

    def end(name: str) -> None:
        if _local(name) == "table":
            state["depth"] -= 1

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(xml, True)
    return out
