"""IRIs of claimgraph: the vocabulary (`CG`) and the builders for instance IRIs.

Python refers to terms through `CG` (typos fail at import-time use, `_fail = True`), never
through IRI strings scattered in code. Instance IRIs follow STYLE.md:
`https://w3id.org/claimgraph/code/hcpcs/E1392`, `.../modifier/KX`, `.../payer/medicare`, ...
"""

from __future__ import annotations

import re
from urllib.parse import quote

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

BASE = "https://w3id.org/claimgraph/"

SH = Namespace("http://www.w3.org/ns/shacl#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCT = Namespace("http://purl.org/dc/terms/")

CODE = Namespace(BASE + "code/")
HCPCS = Namespace(BASE + "code/hcpcs/")
CPT = Namespace(BASE + "code/cpt/")
ICD10CM = Namespace(BASE + "code/icd10cm/")
ICD9CM = Namespace(BASE + "code/icd9cm/")
UNKNOWN_CODE = Namespace(BASE + "code/unknown/")
MODIFIER = Namespace(BASE + "modifier/")
PAYER = Namespace(BASE + "payer/")
RULE = Namespace(BASE + "rule/")
SOURCE = Namespace(BASE + "source/")
SCHEME = Namespace(BASE + "scheme/")
DOCTYPE = Namespace(BASE + "doctype/")
GROUP = Namespace(BASE + "group/")
TOPIC = Namespace(BASE + "topic/")
DENIAL = Namespace(BASE + "denial/")
RELATION = Namespace(BASE + "relation/")
STATEMENT = Namespace(BASE + "statement/")
CLAIM = Namespace(BASE + "claim/")
SHAPES = Namespace(BASE + "shapes/")

PREFIXES: dict[str, str] = {
    "cg": BASE + "ontology/",
    "hcpcs": str(HCPCS),
    "cpt": str(CPT),
    "icd10cm": str(ICD10CM),
    "mod": str(MODIFIER),
    "payer": str(PAYER),
    "rule": str(RULE),
    "src": str(SOURCE),
    "scheme": str(SCHEME),
    "doctype": str(DOCTYPE),
    "group": str(GROUP),
    "topic": str(TOPIC),
    "denial": str(DENIAL),
    "sh": str(SH),
    "skos": str(SKOS),
    "dct": str(DCT),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


class CG(DefinedNamespace):
    """The claimgraph vocabulary, ontology/claimgraph.ttl."""

    _NS = Namespace(BASE + "ontology/")
    _fail = True

    Article: URIRef
    ArticleStatement: URIRef
    CPTCode: URIRef
    Checker: URIRef
    Claim: URIRef
    ClaimFilingIndicator: URIRef
    ClaimLine: URIRef
    Code: URIRef
    CodeDenialReason: URIRef
    CodeGroup: URIRef
    CodeRelationship: URIRef
    CodeScheme: URIRef
    CodeSetRelease: URIRef
    CoveragePolicy: URIRef
    DenialReason: URIRef
    DiagnosisCode: URIRef
    DocumentationArtifact: URIRef
    DocumentationType: URIRef
    HCPCSCode: URIRef
    ICD10CMCode: URIRef
    InputFormat: URIRef
    Modifier: URIRef
    Payer: URIRef
    ProcedureCode: URIRef
    Reader: URIRef
    Rule: URIRef
    Source: URIRef
    Topic: URIRef
    UnitBand: URIRef
    X12TransactionType: URIRef
    aboutCode: URIRef
    actionCode: URIRef
    actionEffectiveDate: URIRef
    agreesWithOfficial: URIRef
    appliesToCode: URIRef
    appliesToModifier: URIRef
    appliesToPayer: URIRef
    authorizationNumber: URIRef
    betosCode: URIRef
    billable: URIRef
    billableUntil: URIRef
    billedMinutes: URIRef
    bodySite: URIRef
    billingProvider: URIRef
    carriesDocument: URIRef
    checkedBy: URIRef
    claimId: URIRef
    codeCount: URIRef
    commonDenialReason: URIRef
    confusableWith: URIRef
    correctCode: URIRef
    coverageCode: URIRef
    denialReason: URIRef
    deniedCode: URIRef
    description: URIRef
    descriptionKeyword: URIRef
    documentDate: URIRef
    documentType: URIRef
    durationMonths: URIRef
    durationWeeks: URIRef
    effectiveFrom: URIRef
    effectiveUntil: URIRef
    excludesPayer: URIRef
    expectedImprovement: URIRef
    expectsDocumentation: URIRef
    failed: URIRef
    fhirSystem: URIRef
    fileName: URIRef
    forLine: URIRef
    forbidsModifier: URIRef
    fullCodeSetLoaded: URIRef
    functionalGoals: URIRef
    guidePrefix: URIRef
    hasDiagnosis: URIRef
    hasDocument: URIRef
    hasLine: URIRef
    inCategory: URIRef
    inFullCodeSet: URIRef
    indicatesPayer: URIRef
    isAttended: URIRef
    isRental: URIRef
    isTimed: URIRef
    lineNumber: URIRef
    maxMinutes: URIRef
    maxPaO2: URIRef
    maxSpO2: URIRef
    maxVisits: URIRef
    medicareEquivalent: URIRef
    member: URIRef
    minMinutes: URIRef
    minutes: URIRef
    minutesPerExtraUnit: URIRef
    modifier: URIRef
    modifierCount: URIRef
    namePattern: URIRef
    nameRefines: URIRef
    notationPrefix: URIRef
    objectCode: URIRef
    oneOnOne: URIRef
    pao2: URIRef
    patientId: URIRef
    payer: URIRef
    preferredAlternative: URIRef
    pricingIndicator: URIRef
    primaryDiagnosis: URIRef
    procedureCode: URIRef
    readByClaimgraph: URIRef
    reason: URIRef
    redFlagDiagnosis: URIRef
    relatedCode: URIRef
    relation: URIRef
    repeatsClaimId: URIRef
    requiresDocument: URIRef
    requiresModifier: URIRef
    serviceDate: URIRef
    shortDescriptor: URIRef
    showsBenefit: URIRef
    sideKeyword: URIRef
    signed: URIRef
    spo2: URIRef
    statedDescription: URIRef
    subjectCode: URIRef
    supportingDiagnosis: URIRef
    topic: URIRef
    transactionSetId: URIRef
    unitBand: URIRef
    units: URIRef
    unitsAllowed: URIRef
    url: URIRef
    usesCodeGroup: URIRef
    windowDays: URIRef


_HCPCS_RE = re.compile(r"^[A-V][0-9]{4}$")
_CPT_RE = re.compile(r"^[0-9]{4}[0-9FTU]$")


def code_system(notation: str) -> str | None:
    """The scheme name of a procedure code string: 'hcpcs', 'cpt', or None when neither."""
    if _HCPCS_RE.match(notation):
        return "hcpcs"
    if _CPT_RE.match(notation):
        return "cpt"
    return None


def procedure_code_iri(notation: str) -> URIRef:
    """IRI of a procedure code; a string of no known shape goes under code/unknown/."""
    system = code_system(notation)
    return URIRef(BASE + f"code/{system or 'unknown'}/" + quote(notation, safe=""))


def icd10cm_dotted(code: str) -> str:
    """ICD-10-CM code with its dot (M5459 -> M54.59), upper case."""
    code = code.strip().upper().replace(".", "")
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def diagnosis_iri(code: str, system: str = "icd10cm") -> URIRef:
    if system == "icd10cm":
        return URIRef(str(ICD10CM) + quote(icd10cm_dotted(code), safe="."))
    return URIRef(BASE + f"code/{system}/" + quote(code.strip().upper(), safe="."))


def modifier_iri(code: str) -> URIRef:
    return URIRef(str(MODIFIER) + quote(code.strip().upper(), safe=""))


def payer_iri(name: str) -> URIRef:
    return URIRef(str(PAYER) + quote(name.strip().lower(), safe=""))


def rule_iri(rule_id: str) -> URIRef:
    return URIRef(str(RULE) + rule_id)


def doctype_iri(name: str) -> URIRef:
    return URIRef(str(DOCTYPE) + quote(name.strip().lower(), safe=""))


def claim_iri(claim_id: str) -> URIRef:
    return URIRef(str(CLAIM) + quote(claim_id, safe=""))


def line_iri(claim_id: str, number: int) -> URIRef:
    return URIRef(f"{claim_iri(claim_id)}/line/{number}")


def document_iri(claim_id: str, number: int) -> URIRef:
    return URIRef(f"{claim_iri(claim_id)}/document/{number}")
