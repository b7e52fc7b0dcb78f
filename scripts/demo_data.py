"""The demo's data: departments, synthetic subjects, certificates, credit events and bundles.

``scripts/seed_demo.py`` brings a ledger to this state; this module holds only what is seeded
(typed constants, checked by mypy like the code that reads them), never how. Kept in Python
rather than JSON so the enums (reason codes, polarities, amendments) and the generated
identifiers are values of their real types, not strings parsed and validated again.

Everything is synthetic. Identity numbers and credit codes are generated with valid check
characters (birth dates 1980-2000, sequence numbers 9xx; organisation codes ``MA0DEMX..``),
names are "示例 ..." ("example ...").
"""

# Chinese text is set with full-width punctuation (commas, colons, brackets), which RUF001
# flags as ambiguous.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from ledger.catalogue import ReasonCode, certificate_type, credit_category
from ledger.contracts import Amendment, Polarity
from ledger.errors import LedgerError
from ledger.identity import SubjectKind, make_citizen_id, make_uscc

#: Printed on every demo document, so none can pass for a real one.
DEMO_BANNER: Final = "【演示数据 DEMO — 虚构主体，仅供测试 / fictional subject, for testing only】"

#: Regions (GB/T 2260) of the demo departments, with their names.
REGIONS: Final = {110000: "北京市", 310000: "上海市", 440300: "深圳市"}


@dataclass(frozen=True)
class DepartmentSpec:
    """A department to accredit: id, region (GB/T 2260), official name and scope names."""

    department_id: int
    region: int
    name: str
    kind: str
    scopes: tuple[str, ...]

    def scope_codes(self) -> list[int]:
        """On-chain codes of the scopes (certificate types first, then credit categories)."""
        codes: list[int] = []
        for scope in self.scopes:
            try:
                codes.append(certificate_type(scope).code)
            except LedgerError:
                codes.append(credit_category(scope).code)
        return codes


DEPARTMENTS: Final = (
    DepartmentSpec(
        110001,
        110000,
        "北京市市场监督管理局",
        "market regulation",
        ("business-licence", "food-business-licence", "false-information", "contract-default"),
    ),
    # Issues identity cards; the window's demo citizen holds one (scripts/demo_window.py).
    DepartmentSpec(
        110003,
        110000,
        "北京市公安局",
        "public security",
        ("identity-card",),
    ),
    DepartmentSpec(
        110002,
        110000,
        "国家税务总局北京市税务局",
        "tax",
        ("tax-registration", "tax-violation"),
    ),
    DepartmentSpec(
        310001,
        310000,
        "上海市人力资源和社会保障局",
        "social security",
        ("social-security-registration", "social-insurance-record", "social-security-arrears"),
    ),
    DepartmentSpec(
        310002,
        310000,
        "中华人民共和国上海海关",
        "customs",
        ("customs-registration", "customs-violation"),
    ),
    # Issues real estate titles; the window's demo citizen owns a flat in Shanghai.
    DepartmentSpec(
        310003,
        310000,
        "上海市规划和自然资源局",
        "natural resources",
        ("real-estate-certificate",),
    ),
    DepartmentSpec(
        440301,
        440300,
        "深圳市民政局",
        "civil affairs",
        ("marriage-certificate", "residence-certificate", "commendation"),
    ),
    DepartmentSpec(
        440302,
        440300,
        "深圳市公安局",
        "public security",
        ("no-criminal-record", "residence-certificate", "false-information"),
    ),
)
DEPARTMENT_BY_ID: Final = {spec.department_id: spec for spec in DEPARTMENTS}


@dataclass(frozen=True)
class SubjectSpec:
    """A synthetic citizen or enterprise."""

    label: str
    kind: SubjectKind
    name: str
    identifier: str

    @property
    def masked(self) -> str:
        """The identifier as printed on a personal document: region and last four only."""
        if self.kind is SubjectKind.ENTERPRISE:
            return self.identifier  # credit codes are public (docs/architecture.md)
        return self.identifier[:6] + "*" * 8 + self.identifier[-4:]


def _citizen(label: str, name: str, region: str, birth: date, sequence: int) -> SubjectSpec:
    return SubjectSpec(label, SubjectKind.CITIZEN, name, make_citizen_id(region, birth, sequence))


def _enterprise(label: str, name: str, region: str, number: int) -> SubjectSpec:
    code = make_uscc("9", "1", region, f"MA0DEMX{number:02d}")
    return SubjectSpec(label, SubjectKind.ENTERPRISE, name, code)


SUBJECTS: Final = (
    _enterprise("E1", "示例科技（北京）有限公司", "110108", 1),
    _enterprise("E2", "示例国际贸易（上海）有限公司", "310115", 2),
    _enterprise("E3", "示例餐饮管理（北京）有限公司", "110105", 3),
    _enterprise("E4", "示例建材（北京）有限公司", "110112", 4),
    _enterprise("E5", "示例电子（深圳）有限公司", "440305", 5),
    _citizen("C1", "示例 张三", "110101", date(1985, 3, 12), 901),
    _citizen("C2", "示例 李四", "310104", date(1990, 7, 8), 912),
    _citizen("C3", "示例 王五", "440304", date(1988, 11, 23), 933),
    _citizen("C4", "示例 赵六", "440305", date(1996, 1, 30), 946),
    _citizen("C5", "示例 孙七", "110105", date(2000, 5, 5), 958),
)
SUBJECT_BY_LABEL: Final = {spec.label: spec for spec in SUBJECTS}


@dataclass(frozen=True)
class CertificateSpec:
    """A certificate to issue: holder, type, issuing department, validity and its fate."""

    name: str
    holder: str
    type_name: str
    department_id: int
    #: Record region; a district inside the department's region, or the department's own.
    region: int | None = None
    #: Validity in days from first issue; None: no expiry (long-term).
    valid_days: int | None = None
    revoke: ReasonCode | None = None
    #: Name of the certificate this one replaces (renewal or correction).
    supersedes: str | None = None
    details: tuple[tuple[str, str], ...] = ()


CERTIFICATES: Final = (
    CertificateSpec(
        "E1-business-licence",
        "E1",
        "business-licence",
        110001,
        region=110108,
        details=(("类型", "有限责任公司"), ("注册资本", "人民币 500 万元")),
    ),
    CertificateSpec("E1-tax-registration", "E1", "tax-registration", 110002, region=110108),
    CertificateSpec("E2-customs-registration", "E2", "customs-registration", 310002, 310115),
    CertificateSpec(
        "E2-social-security-registration", "E2", "social-security-registration", 310001, 310115
    ),
    CertificateSpec("E3-business-licence", "E3", "business-licence", 110001, region=110105),
    CertificateSpec(
        "E3-food-business-licence-v1",
        "E3",
        "food-business-licence",
        110001,
        region=110105,
        valid_days=5 * 365,
        details=(("经营项目", "热食类食品制售"),),
    ),
    CertificateSpec(
        "E3-food-business-licence-v2",
        "E3",
        "food-business-licence",
        110001,
        region=110105,
        valid_days=5 * 365 + 180,
        supersedes="E3-food-business-licence-v1",
        details=(("经营项目", "热食类食品制售；冷食类食品制售"), ("变更事项", "增加经营项目")),
    ),
    CertificateSpec(
        "E4-business-licence",
        "E4",
        "business-licence",
        110001,
        region=110112,
        revoke=ReasonCode.LICENCE_WITHDRAWN,
    ),
    CertificateSpec("C1-residence-certificate", "C1", "residence-certificate", 440302, None, 365),
    CertificateSpec("C2-marriage-certificate", "C2", "marriage-certificate", 440301),
    CertificateSpec(
        "C2-social-insurance-record", "C2", "social-insurance-record", 310001, valid_days=90
    ),
    CertificateSpec("C3-marriage-certificate", "C3", "marriage-certificate", 440301),
    CertificateSpec(
        "C4-no-criminal-record",
        "C4",
        "no-criminal-record",
        440302,
        valid_days=90,
        revoke=ReasonCode.ISSUED_IN_ERROR,
    ),
    CertificateSpec("C5-residence-certificate", "C5", "residence-certificate", 440301, None, 365),
)

CERTIFICATE_BY_NAME: Final = {spec.name: spec for spec in CERTIFICATES}
#: Holders of the two marriage certificates, each naming the other.
SPOUSES: Final = {"C2": "C3", "C3": "C2"}


@dataclass(frozen=True)
class CreditSpec:
    """A credit event and the amendments it receives, in order."""

    name: str
    subject: str
    category: str
    department_id: int
    polarity: Polarity
    severity: int
    days_ago: int
    facts: str
    amendments: tuple[Amendment, ...] = ()


CREDIT_EVENTS: Final = (
    CreditSpec(
        "E1-contract-default",
        "E1",
        "contract-default",
        110001,
        Polarity.NEGATIVE,
        2,
        200,
        "未按合同约定履行供货义务（虚构）",
        (Amendment.DISPUTED, Amendment.UPHELD),
    ),
    CreditSpec(
        "E1-tax-violation",
        "E1",
        "tax-violation",
        110002,
        Polarity.NEGATIVE,
        2,
        420,
        "逾期未申报增值税（虚构）",
        (Amendment.REPAIRED,),
    ),
    CreditSpec(
        "E2-customs-violation",
        "E2",
        "customs-violation",
        310002,
        Polarity.NEGATIVE,
        3,
        150,
        "申报商品编码不实（虚构）",
    ),
    CreditSpec(
        "E3-false-information",
        "E3",
        "false-information",
        110001,
        Polarity.NEGATIVE,
        4,
        90,
        "申请食品经营许可时提交虚假材料（虚构）",
    ),
    CreditSpec(
        "E5-commendation",
        "E5",
        "commendation",
        440301,
        Polarity.POSITIVE,
        2,
        60,
        "热心公益，捐助社区养老服务（虚构）",
    ),
    CreditSpec(
        "C1-commendation",
        "C1",
        "commendation",
        440301,
        Polarity.POSITIVE,
        1,
        30,
        "见义勇为（虚构）",
    ),
    CreditSpec(
        "C3-social-security-arrears",
        "C3",
        "social-security-arrears",
        310001,
        Polarity.NEGATIVE,
        1,
        300,
        "灵活就业人员社保欠缴三个月（虚构）",
    ),
    CreditSpec(
        "C4-false-information",
        "C4",
        "false-information",
        440302,
        Polarity.NEGATIVE,
        3,
        45,
        "办理居住证时提供虚假租赁合同（虚构）",
    ),
)

#: Title of the decision document behind each kind of amendment.
AMENDMENT_TITLES: Final = {
    Amendment.DISPUTED: "信用信息异议受理通知书",
    Amendment.UPHELD: "信用信息异议复核决定书（维持原记录）",
    Amendment.REPAIRED: "信用修复决定书",
    Amendment.CORRECTED: "信用信息更正决定书",
    Amendment.WITHDRAWN: "信用信息撤销决定书",
}


@dataclass(frozen=True)
class BundleSpec:
    """A joint licensing bundle (多证联办): the enterprise, the lead department, the
    certificates it needs (by their names in :data:`CERTIFICATES`) and which of them are filed."""

    name: str
    holder: str
    lead: int
    parts: tuple[str, ...]
    filed: tuple[str, ...]


BUNDLES: Final = (
    # Complete: both licences of a new Beijing company, filed by their departments.
    BundleSpec(
        "E1-company-start",
        "E1",
        110001,
        ("E1-business-licence", "E1-tax-registration"),
        ("E1-business-licence", "E1-tax-registration"),
    ),
    # Waiting: the Shanghai trading company's social security registration is not filed yet.
    BundleSpec(
        "E2-import-export",
        "E2",
        310002,
        ("E2-customs-registration", "E2-social-security-registration"),
        ("E2-customs-registration",),
    ),
)
#: Days from seeding until a demo bundle's deadline.
BUNDLE_DAYS: Final = 60
