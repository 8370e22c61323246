"""The transparency report in the Commission's CSV parts (Annex I templates of Implementing Regulation
2024/2835: RFC 4180, UTF-8, integer counts, shares in [0, 1], medians in hours) and one XLSX workbook."""

from __future__ import annotations

import csv
import io
from typing import Any

from amparo.reports.transparency import RESTRICTION_COLUMNS, category_keywords

ILLEGAL_CATEGORIES = ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS")
TC_CATEGORIES = ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC")
LONG_HEADER = ["Applicability", "Service", "Reporting period", "Section", "Indicator", "Scope", "Value",
               "Contextual Information"]  # fmt: skip


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


def _part1(rep: dict[str, Any]) -> list[list[Any]]:
    start, end = rep["period"].split("/")
    return [
        ["Provider", "Service", "Reporting period start", "Reporting period end", "Regulation"],
        [rep["provider"], rep["service"], start, end, rep["regulation"]],
    ]


def _own_initiative(rep: dict[str, Any], key: str, categories: tuple[str, ...], label: str) -> list[list[Any]]:
    data: dict[str, dict[str, int]] = rep[key]
    header = ["Applicability", "Service", "Reporting period", label, 'Description of the sub-category "Other"',
              "Number of measures taken at the provider's own initiative",
              "Number of measures taken after detection with solely automated means",
              *[c for _, c in RESTRICTION_COLUMNS]]  # fmt: skip
    kws = category_keywords()

    def row(name: str, counts: dict[str, int], other: str = "") -> list[Any]:
        return [
            "All",
            rep["service"],
            rep["period"],
            name,
            other,
            counts.get("measures", 0),
            counts.get("solely_automated", 0),
            *[counts.get(k, 0) for k, _ in RESTRICTION_COLUMNS],
        ]

    rows = [header, row("TOTAL", data.get("TOTAL", {}))]
    for cat in sorted(set(categories) | {k for k in data if k.startswith("STATEMENT_CATEGORY_")}):
        rows.append(row(cat, data.get(cat, {})))
        for kw in kws.get(cat, []):
            if kw == "KEYWORD_OTHER":
                rows.append(row(kw, data.get(f"{cat}:KEYWORD_OTHER", {}), "Synthetic and sexual imagery rules"))
            else:
                rows.append(row(kw, data.get(kw, {})))
    return rows


def _long(rep: dict[str, Any], section: str, items: list[tuple[str, str, Any, str]]) -> list[list[Any]]:
    return [LONG_HEADER, *[["All", rep["service"], rep["period"], section, i, s, v, c] for i, s, v, c in items]]


def _part3(rep: dict[str, Any]) -> list[list[Any]]:
    note = rep["orders"]["note"]
    return _long(
        rep,
        "Orders from Member States' authorities",
        [
            (
                "Number of orders to act against illegal content",
                "TOTAL",
                rep["orders"]["act_against_illegal_content"],
                note,
            ),
            ("Number of orders to provide information", "TOTAL", rep["orders"]["provide_information"], note),
        ],
    )


def _part4(rep: dict[str, Any]) -> list[list[Any]]:
    note = rep["notices"]["note"]
    return _long(
        rep,
        "Notices submitted in accordance with Article 16",
        [
            ("Number of notices received", "Total", rep["notices"]["total"], note),
            ("Number of notices received", "Trusted Flagger", rep["notices"]["trusted_flagger"], note),
        ],
    )


def _part7(rep: dict[str, Any]) -> list[list[Any]]:
    c = rep["complaints"]
    ind = "Number of complaints submitted to the internal-complaints mechanism"
    sub = "Complaint regarding a decision to remove or disable access to or restrict visibility of information"
    section = "Internal complaints mechanism"
    items = [
        (ind, "Total number", c["total"], "Appeals filed in the period"),
        (ind, "Decisions upheld", c["upheld"], ""),
        (ind, "Decisions partially reversed", c["partially_reversed"], ""),
        (ind, "Decisions reversed", c["reversed"], ""),
        (ind, "Median time", c["median_hours"], "Hours from filing to decision"),
        (ind, "Decision omitted", c["omitted"], "Still open at the end of the period"),
        (sub, "Total number", c["total"], "Every appeal in Amparo contests a visibility restriction"),
        (sub, "Decisions upheld", c["upheld"], ""),
        (sub, "Decisions partially reversed", c["partially_reversed"], ""),
        (sub, "Decisions reversed", c["reversed"], ""),
        (sub, "Median time", c["median_hours"], ""),
    ]
    return _long(rep, section, items)


def _part8(rep: dict[str, Any]) -> list[list[Any]]:
    a = rep["automated_means"]
    section = "Use of automated means for content moderation"
    items: list[tuple[str, str, Any, str]] = [
        ("Number of measures solely taken by automated means", "Total number", a["solely_automated"], ""),
        ("Number of measures not taken by automated means", "Total number", a["not_solely_automated"], ""),
    ]
    for name, s in a["systems"].items():
        scope = "Own-initiative" if name == "TOTAL" else f"Own-initiative: {name}"
        for metric in ("accuracy", "precision", "recall"):
            m = s[metric]
            ci = m["ci95"]
            ctx = f"{m['k']}/{m['n']} reviewed items" + (f"; Wilson 95% CI [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")
            value = round(m["value"], 6) if m["value"] is not None else None
            items.append((f"Accuracy of the automated means - {metric.capitalize()}", scope, value, ctx))
    return _long(rep, section, items)


def csv_parts(rep: dict[str, Any]) -> dict[str, str]:
    """File name → CSV text, one per Annex I part Amparo can fill."""
    return {
        "Part_1_summary.csv": _csv(_part1(rep)),
        "Part_3_member_states_orders.csv": _csv(_part3(rep)),
        "Part_4_notices.csv": _csv(_part4(rep)),
        "Part_5_own_initiative_illegal.csv": _csv(
            _own_initiative(rep, "own_initiative_illegal", ILLEGAL_CATEGORIES, "Category of illegal content")
        ),
        "Part_6_own_initiative_TC.csv": _csv(
            _own_initiative(rep, "own_initiative_tc", TC_CATEGORIES, "Category of incompatibility with T&C")
        ),
        "Part_7_appeals_and_recidivism.csv": _csv(_part7(rep)),
        "Part_8_automated_means.csv": _csv(_part8(rep)),
    }


def xlsx_bytes(rep: dict[str, Any]) -> bytes:
    """All parts as sheets of one workbook (xlsxwriter, BSD-2-Clause)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    bold = wb.add_format({"bold": True})
    for name, text in csv_parts(rep).items():
        ws = wb.add_worksheet(name.removesuffix(".csv")[:31])
        for r, row in enumerate(csv.reader(io.StringIO(text))):
            for c, v in enumerate(row):
                num: Any = v
                try:
                    num = int(v)
                except ValueError:
                    try:
                        num = float(v)
                    except ValueError:
                        num = v
                ws.write(r, c, num, bold if r == 0 else None)
    wb.close()
    return buf.getvalue()
