"""The UTBMS code sets the product ships, and membership checks against them.

Codes are validated for membership, not shape: "L999" looks like a task code but is none.
Sources: the ABA Litigation Code Set (1997, maintained by the LEDES Oversight Committee, see
utbms.com), the ABA activity codes A101-A111 and the expense codes E101-E124. No UTBMS code set
for immigration work is published (the LOC lists litigation, counseling, project, bankruptcy,
patent, trademark, IP and eDiscovery sets); immigration petitions and appeals are billed under the
litigation set, as the demo fee schedule does (L210 pleadings for petitions, L250 for RFE
responses, L520 appellate briefs).

In the litigation set L100, L200 ... L500 are *phases*, not tasks: a fee line carries a task
(L110, L120 ...), and the phase is deduced from it. A time entry without a task code is never
exported under a phase code; it is flagged instead.

USCIS and other government filing fees use E112 "Court fees" (the set's code for fees paid to a
tribunal or agency to file; E124 "Other" is the catch-all for what no code names).
"""

from __future__ import annotations

LITIGATION_PHASES: dict[str, str] = {
    "L100": "Case Assessment, Development and Administration",
    "L200": "Pre-Trial Pleadings and Motions",
    "L300": "Discovery",
    "L400": "Trial Preparation and Trial",
    "L500": "Appeal",
}

LITIGATION_TASKS: dict[str, str] = {
    "L110": "Fact Investigation/Development",
    "L120": "Analysis/Strategy",
    "L130": "Experts/Consultants",
    "L140": "Document/File Management",
    "L150": "Budgeting",
    "L160": "Settlement/Non-Binding ADR",
    "L190": "Other Case Assessment, Development and Administration",
    "L210": "Pleadings",
    "L220": "Preliminary Injunctions/Provisional Remedies",
    "L230": "Court Mandated Conferences",
    "L240": "Dispositive Motions",
    "L250": "Other Written Motions and Submissions",
    "L260": "Class Action Certification and Notice",
    "L310": "Written Discovery",
    "L320": "Document Production",
    "L330": "Depositions",
    "L340": "Expert Discovery",
    "L350": "Discovery Motions",
    "L390": "Other Discovery",
    "L410": "Fact Witnesses",
    "L420": "Expert Witnesses",
    "L430": "Written Motions and Submissions",
    "L440": "Other Trial Preparation and Support",
    "L450": "Trial and Hearing Attendance",
    "L460": "Post-Trial Motions and Submissions",
    "L470": "Enforcement",
    "L510": "Appellate Motions and Submissions",
    "L520": "Appellate Briefs",
    "L530": "Oral Argument",
}

ACTIVITIES: dict[str, str] = {
    "A101": "Plan and prepare for",
    "A102": "Research",
    "A103": "Draft/revise",
    "A104": "Review/analyze",
    "A105": "Communicate (in firm)",
    "A106": "Communicate (with client)",
    "A107": "Communicate (other outside counsel)",
    "A108": "Communicate (other external)",
    "A109": "Appear for/attend",
    "A110": "Manage data/files",
    "A111": "Other",
}

EXPENSES: dict[str, str] = {
    "E101": "Copying",
    "E102": "Outside printing",
    "E103": "Word processing",
    "E104": "Facsimile",
    "E105": "Telephone",
    "E106": "Online research",
    "E107": "Delivery services/messengers",
    "E108": "Postage",
    "E109": "Local travel",
    "E110": "Out-of-town travel",
    "E111": "Meals",
    "E112": "Court fees",
    "E113": "Subpoena fees",
    "E114": "Witness fees",
    "E115": "Deposition transcripts",
    "E116": "Trial transcripts",
    "E117": "Trial exhibits",
    "E118": "Litigation support vendors",
    "E119": "Experts",
    "E120": "Private investigators",
    "E121": "Arbitrators/mediators",
    "E122": "Local counsel",
    "E123": "Other professionals",
    "E124": "Other",
}

# USCIS / DOL / DOS filing fees: fees paid to the agency to file (see the module docstring).
FILING_FEE_EXPENSE_CODE = "E112"


def is_task(code: str) -> bool:
    """A task of a shipped task code set (phases are not tasks)."""
    return code in LITIGATION_TASKS


def is_phase(code: str) -> bool:
    return code in LITIGATION_PHASES


def is_activity(code: str) -> bool:
    return code in ACTIVITIES


def is_expense(code: str) -> bool:
    return code in EXPENSES


def _choices(codes: dict[str, str]) -> list[tuple[str, str]]:
    return [(code, f"{code} {name}") for code, name in codes.items()]


def task_choices() -> list[tuple[str, str]]:
    """Select options grouped under their phase (the phase itself is not selectable)."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for phase, phase_name in LITIGATION_PHASES.items():
        tasks = [(c, f"{c} {n}") for c, n in LITIGATION_TASKS.items() if c[:2] == phase[:2]]
        groups.append((f"{phase} {phase_name}", tasks))
    return groups  # type: ignore[return-value]


def activity_choices() -> list[tuple[str, str]]:
    return _choices(ACTIVITIES)


def expense_choices() -> list[tuple[str, str]]:
    return _choices(EXPENSES)
