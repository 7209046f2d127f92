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

from .icd import icd9cm_dotted, icd10cm_dotted  # pure string functions, re-exported here

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
SETTING = Namespace(BASE + "setting/")  # NCCI care settings (ontology/cms-tables.ttl)
PAYMENT_CATEGORY = Namespace(BASE + "dmepos-category/")  # DMEPOS CATG values
ENTRY = Namespace(BASE + "entry/")  # rows of imported CMS tables, per release

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
    "setting": str(SETTING),
    "pcat": str(PAYMENT_CATEGORY),
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
    AOCTableRelease: URIRef
    AddOnCodeEdit: URIRef
    AddOnCodeListing: URIRef
    Article: URIRef
    ArticleStatement: URIRef
    CMSTableEntry: URIRef
    CMSTableRelease: URIRef
    CPTCode: URIRef
    CareSetting: URIRef
    ClaimAdjustmentGroupCode: URIRef
    ClaimAdjustmentReasonCode: URIRef
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
    DMEPOSFeeScheduleRelease: URIRef
    DMEPOSPaymentCategory: URIRef
    DMEPOSPricing: URIRef
    DenialReason: URIRef
    DenialCode: URIRef
    DiagnosisCode: URIRef
    DocumentationArtifact: URIRef
    DocumentationType: URIRef
    FhirCode: URIRef
    FhirCodeSystem: URIRef
    HCPCSCode: URIRef
    ICD10CMCode: URIRef
    ICD9CMCode: URIRef
    MUETableRelease: URIRef
    MedicallyUnlikelyEdit: URIRef
    InputFormat: URIRef
    Modifier: URIRef
    PTPEdit: URIRef
    PTPTableRelease: URIRef
    Payer: URIRef
    PatientIdPlaceholders: URIRef
    ProcedureCode: URIRef
    RemittanceAdviceRemarkCode: URIRef
    Reader: URIRef
    Rule: URIRef
    ScopedLines: URIRef
    Source: URIRef
    Topic: URIRef
    UnitBand: URIRef
    ValiditySpan: URIRef
    X12TransactionType: URIRef
    aboutCode: URIRef
    actionCode: URIRef
    actionEffectiveDate: URIRef
    addOnCode: URIRef
    addOnCodeDeletionDate: URIRef
    agreesWithOfficial: URIRef
    aocEditType: URIRef
    appliesToCode: URIRef
    appliesToIndicator: URIRef
    appliesToModifier: URIRef
    appliesToPayer: URIRef
    authorizationNumber: URIRef
    betosCode: URIRef
    billable: URIRef
    billableSpan: URIRef
    billableUntil: URIRef
    billedMinutes: URIRef
    bodySite: URIRef
    billingProvider: URIRef
    carc: URIRef
    careSetting: URIRef
    bodySiteCode: URIRef
    carriesDocument: URIRef
    checkedBy: URIRef
    claimId: URIRef
    codeCount: URIRef
    column1Code: URIRef
    column2Code: URIRef
    commonDenialReason: URIRef
    confusableWith: URIRef
    correctCode: URIRef
    coverageCode: URIRef
    deletedRowCount: URIRef
    deletionDate: URIRef
    denialReason: URIRef
    deniedCode: URIRef
    description: URIRef
    descriptionKeyword: URIRef
    documentDate: URIRef
    documentType: URIRef
    durationMonths: URIRef
    durationWeeks: URIRef
    durationDays: URIRef
    BodySite: URIRef
    hasSide: URIRef
    includesGroup: URIRef
    notationRange: URIRef
    titleWord: URIRef
    officialTitle: URIRef
    defaultSchedule: URIRef
    requiresPaymentCategory: URIRef
    minSpO2: URIRef
    minPaO2: URIRef
    qualifyingCriterion: URIRef
    requiresCondition: URIRef
    shownByField: URIRef
    aboveValue: URIRef
    shownByDiagnoses: URIRef
    dependentEdema: URIRef
    pulmonaryHypertension: URIRef
    hematocrit: URIRef
    performer: URIRef
    dischargeDate: URIRef
    maxDaysBeforeDischarge: URIRef
    QualifyingCriterion: URIRef
    QualifyingCondition: URIRef
    requiredField: URIRef
    expectedDuration: URIRef
    editRationale: URIRef
    effectiveFrom: URIRef
    effectiveUntil: URIRef
    endedOn: URIRef
    excludesPayer: URIRef
    expectedImprovement: URIRef
    expectsDocumentation: URIRef
    failed: URIRef
    fhirSystem: URIRef
    fileName: URIRef
    findingKey: URIRef
    fix: URIRef
    forLine: URIRef
    forbidsModifier: URIRef
    fullCodeSetLoaded: URIRef
    functionalGoals: URIRef
    groupCode: URIRef
    guidePrefix: URIRef
    hasDiagnosis: URIRef
    hasDocument: URIRef
    hasLine: URIRef
    hierarchicalCodes: URIRef
    impliesPayer: URIRef
    headerChildren: URIRef
    headerSpan: URIRef
    inCategory: URIRef
    inFhirSystem: URIRef
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
    placeholderPattern: URIRef
    placeholderValue: URIRef
    medicareEquivalent: URIRef
    member: URIRef
    memberNotation: URIRef
    minMinutes: URIRef
    minutes: URIRef
    minutesPerExtraUnit: URIRef
    modifier: URIRef
    modifierCount: URIRef
    modifierIndicator: URIRef
    mueAdjudicationIndicator: URIRef
    mueValue: URIRef
    namePattern: URIRef
    nameRefines: URIRef
    notationPrefix: URIRef
    objectCode: URIRef
    oneOnOne: URIRef
    order: URIRef
    pao2: URIRef
    patientId: URIRef
    payer: URIRef
    paymentCategory: URIRef
    placeOfService: URIRef
    preferredAlternative: URIRef
    pricedWithoutModifier: URIRef
    pricingIndicator: URIRef
    pricingModifier: URIRef
    primaryCode: URIRef
    primaryCodeCount: URIRef
    primaryCodeDeletionDate: URIRef
    primaryDiagnosis: URIRef
    procedureCode: URIRef
    rarc: URIRef
    quarter: URIRef
    readAs: URIRef
    readByClaimgraph: URIRef
    reason: URIRef
    reportedPerRun: URIRef
    redFlagDiagnosis: URIRef
    relatedCode: URIRef
    relation: URIRef
    repeatsClaimId: URIRef
    requiresDocument: URIRef
    requiresModifier: URIRef
    rowCount: URIRef
    scopeOf: URIRef
    serviceDate: URIRef
    shortDescriptor: URIRef
    showsBenefit: URIRef
    sideKeyword: URIRef
    signed: URIRef
    spo2: URIRef
    statedDescription: URIRef
    subjectCode: URIRef
    supportingDiagnosis: URIRef
    tableCode: URIRef
    tableFile: URIRef
    tableVersion: URIRef
    systemPrefix: URIRef
    systemUri: URIRef
    topic: URIRef
    transactionSetId: URIRef
    unitBand: URIRef
    unitBasis: URIRef
    units: URIRef
    unitsAllowed: URIRef
    url: URIRef
    usesCodeGroup: URIRef
    valueIsPayerName: URIRef
    validFrom: URIRef
    validUntil: URIRef
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


def diagnosis_iri(code: str, system: str = "icd10cm") -> URIRef:
    if system == "icd10cm":
        return URIRef(str(ICD10CM) + quote(icd10cm_dotted(code), safe="."))
    if system == "icd9cm":
        return URIRef(str(ICD9CM) + quote(icd9cm_dotted(code), safe="."))
    return URIRef(BASE + f"code/{quote(system, safe='')}/" + quote(code.strip().upper(), safe="."))


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


# A SNOMED CT concept IRI: the one IRI a claim carries as its input gives it (cg:bodySiteCode).
# Every other instance IRI is built here from percent-encoded parts; this one is checked whole,
# so no text of the input can close the N-Triples term it is written into (issue 16).
SNOMED_CONCEPT = "http://snomed.info/id/"
_SNOMED_IRI = re.compile(r"http://snomed\.info/id/[0-9]{1,18}", re.ASCII)


def snomed_concept_iri(value: object) -> str | None:
    """`value` when it is a SNOMED CT concept IRI (`http://snomed.info/id/` and 1 to 18 ASCII
    digits), else None."""
    return value if isinstance(value, str) and _SNOMED_IRI.fullmatch(value) else None


def document_iri(claim_id: str, number: int) -> URIRef:
    return URIRef(f"{claim_iri(claim_id)}/document/{number}")
