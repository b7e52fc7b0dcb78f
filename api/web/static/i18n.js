// Every visible string of the pages, in Chinese (the default) and English.
//
// Certificate type and credit category titles are not here: they come from /v1/catalogue
// (titleZh / titleEn). Placeholders are written {name} and filled by t(key, {name: value}).

export const LANGUAGES = ["zh", "en"];
export const DEFAULT_LANGUAGE = "zh";
const STORAGE_KEY = "ledger.lang";

const DICTIONARY = {
  zh: {
    "site.title": "政务证照与信用链",
    "site.subtitle": "证照存证核验 · 公共信用记录",
    "site.footer":
      "核验在公共账本上进行：提交核验的文件不会被保存。本服务不会在页面、链上或日志中显示身份证号码或统一社会信用代码。",
    "common.skip": "跳到主要内容",
    "nav.label": "主导航",
    "nav.verify": "证照核验",
    "nav.citizen": "个人与企业",
    "nav.console": "部门工作台",
    "lang.switch": "English",
    "lang.switchLabel": "Switch to English",
    "common.none": "—",
    "common.department": "部门 {id}",
    "common.departmentRegion": "部门 {id}（行政区划 {region}）",
    "common.departmentNamed": "{name}（{region}）",
    "common.cancel": "取消",
    "common.verifyLink": "核验",
    "common.verifyLinkLabel": "核验哈希 {hash}",
    "common.optional": "（选填）",

    "verify.pageTitle": "证照核验 · 政务证照与信用链",
    "verify.heading": "证照核验",
    "verify.lead":
      "上传您收到的证照文件，或粘贴文件哈希，即可在公共账本上核验其是否由有资质的部门签发、是否仍然有效。",
    "verify.byFile": "上传文件核验",
    "verify.dropHint": "将文件拖放到此处，或点击选择文件",
    "verify.dropActive": "松开鼠标即开始核验",
    "verify.fileChosen": "已选择：{name}",
    "verify.fileNote": "文件仅用于本次核验，不会被保存。",
    "verify.byHash": "按文件哈希核验",
    "verify.hashLabel": "文件哈希",
    "verify.hashHint": "以 0x 开头、共 64 位十六进制数字。",
    "verify.hashInvalid": "文件哈希应为 0x 加 64 位十六进制数字。",
    "verify.proofLabel": "批量存证证明（可选）",
    "verify.proofChoose": "选择证明文件",
    "verify.proofNone": "未附证明",
    "verify.proofRemove": "移除",
    "verify.proofRemoveLabel": "移除批量存证证明",
    "verify.proofHint":
      "仅适用于批量存证的证照：附上随文件一同收到的 .proof.json 文件，也可将其拖放到此处。结构化证照（JSON）已内含证明，无需另附。",
    "verify.proofHashHint":
      "仅适用于批量存证的证照：附上其 .proof.json 文件。结构化证照（JSON）的证明在文件内，请改用上传文件核验。",
    "verify.proofNotJson":
      "所附的批量存证证明不是有效的 JSON 文件，未提交核验。请选择随证照收到的 .proof.json 文件。",
    "verify.proofTooLarge":
      "所附的批量存证证明过大（不超过 16 KiB），未提交核验。请确认选择的是 .proof.json 文件。",
    "verify.proofUsed": "批量存证证明",
    "verify.check": "核验",
    "verify.verifying": "正在核验…",
    "verify.resultHeading": "核验结果",
    "verify.valid": "有效",
    "verify.invalid": "无效",
    "verify.summaryValid": "全部检查均已通过（{passed} 项通过，{na} 项不适用）。",
    "verify.summaryInvalid": "{failed} 项检查未通过，{passed} 项通过，{na} 项不适用。",
    "verify.checksCaption": "逐项检查",
    "verify.colOutcome": "结果",
    "verify.colCheck": "检查项",
    "verify.colDetail": "说明",
    "verify.documentHash": "文件哈希",
    "verify.documentKind": "文件类别",
    "verify.checkedAt": "核验时间",
    "verify.recordHeading": "链上存证记录",
    "verify.issuer": "签发部门",
    "verify.type": "证照类型",
    "verify.region": "行政区划",
    "verify.anchoredAt": "存证时间",
    "verify.anchoredBlock": "存证区块",
    "verify.expiresAt": "有效期至",
    "verify.status": "状态",
    "verify.noExpiry": "长期有效",
    "kind.file": "文件",
    "kind.certificate": "结构化证照",

    "outcome.passed": "通过",
    "outcome.failed": "未通过",
    "outcome.not_applicable": "不适用",
    "check.document.parsed": "文件解析",
    "check.document.hash": "文件哈希计算",
    "check.merkle.proof": "默克尔证明",
    "check.anchor.exists": "链上存证",
    "check.issuer.accredited": "签发部门资质",
    "check.status.current": "当前状态",
    "check.dates.valid": "有效期",
    "check.bundle.parts": "组合证照各部分",
    "check.finality.confirmations": "区块确认数",
    "check.chain.agreement": "多节点一致",
    "check.storage.copy": "存储副本比对",

    "status.active": "有效",
    "status.suspended": "已中止",
    "status.revoked": "已撤销",
    "status.superseded": "已被替换",
    "status.unknown": "未知",

    "amendment.none": "正常",
    "amendment.corrected": "已更正",
    "amendment.withdrawn": "已撤回",
    "amendment.repaired": "已信用修复",
    "amendment.disputed": "异议处理中",
    "amendment.upheld": "异议未获支持",

    "polarity.negative": "失信（负面）",
    "polarity.positive": "守信（正面）",

    "reason.issued-in-error": "误发",
    "reason.fraud": "欺诈",
    "reason.holder-request": "持证人申请",
    "reason.renewal": "换发",
    "reason.correction": "更正",
    "reason.court-order": "法院裁定",
    "reason.investigation": "调查中",
    "reason.licence-withdrawn": "许可被撤回",
    "reason.other": "其他",

    "citizen.pageTitle": "个人与企业 · 政务证照与信用链",
    "citizen.heading": "我的证照与信用",
    "citizen.lead":
      "通过身份认证服务登录后，可查看签发给您的证照和关于您的信用记录，并对有误的记录提出异议。",
    "citizen.loginHeading": "登录",
    "citizen.loginLead": "请通过本服务配置的身份认证服务登录。",
    "citizen.devHeading": "演示身份认证",
    "citizen.devHint":
      "演示环境由本服务自行签发登录令牌。请输入演示用的身份证号码或统一社会信用代码。",
    "citizen.subjectLabel": "身份证号码或统一社会信用代码",
    "citizen.login": "登录",
    "citizen.tokenHeading": "使用身份认证服务的令牌",
    "citizen.tokenHint": "如果您已从身份认证服务获得令牌（JWT），请粘贴到下方。",
    "citizen.tokenLabel": "身份令牌",
    "citizen.useToken": "使用此令牌",
    "citizen.subjectMissing": "请输入身份证号码或统一社会信用代码。",
    "citizen.tokenMissing": "请粘贴身份令牌。",
    "citizen.notCitizenToken": "此令牌不是个人或企业的身份令牌。",
    "citizen.loggedInCitizen": "已登录：个人",
    "citizen.loggedInEnterprise": "已登录：企业",
    "citizen.logout": "退出登录",
    "citizen.loggedOut": "您已退出登录。",
    "citizen.sessionNote": "登录状态仅保存在本浏览器标签页中，关闭标签页即失效。",
    "citizen.certsHeading": "我的证照",
    "citizen.certsEmpty": "暂无签发给您的证照。",
    "citizen.colType": "证照类型",
    "citizen.colDepartment": "签发部门",
    "citizen.colStatus": "状态",
    "citizen.colAnchored": "签发时间",
    "citizen.colExpires": "有效期至",
    "citizen.colHash": "文件哈希",
    "citizen.creditHeading": "我的信用记录",
    "citizen.creditEmpty": "暂无关于您的信用记录。",
    "citizen.score": "信用分",
    "citizen.scoreDetail": "评分规则 {policy}，计入 {events} 条记录",
    "citizen.colCategory": "类别",
    "citizen.colPolarity": "性质",
    "citizen.colSeverity": "严重程度",
    "citizen.colRecorder": "记录部门",
    "citizen.colOccurred": "发生日期",
    "citizen.colRecorded": "记录时间",
    "citizen.colAmendment": "记录状态",
    "citizen.colAmended": "变更时间",
    "citizen.colActions": "操作",
    "citizen.dispute": "提出异议",
    "citizen.disputeLabel": "对记录 {id} 提出异议",
    "citizen.disputeHeading": "对信用记录提出异议",
    "citizen.disputeLead":
      "请说明您认为这条记录有误的原因。记录部门将复核并作出答复；原因文本只以哈希形式上链。",
    "citizen.disputeReason": "异议理由",
    "citizen.disputeSubmit": "提交异议",
    "citizen.disputeDone": "异议已提交，记录状态已更新为“异议处理中”。",
    "citizen.reasonMissing": "请填写异议理由。",

    "console.pageTitle": "部门工作台 · 政务证照与信用链",
    "console.heading": "部门工作台",
    "console.lead": "使用本部门的 API 令牌存证证照、撤销证照、记录信用事件并查看本部门的证照。",
    "console.tokenHeading": "连接部门账户",
    "console.tokenLabel": "部门 API 令牌",
    "console.tokenHint": "以 gld_ 开头，签发时只显示一次。令牌仅保存在本浏览器标签页中。",
    "console.connect": "连接",
    "console.disconnect": "断开",
    "console.tokenMissing": "请粘贴部门 API 令牌。",
    "console.notDepartment": "此令牌不是部门令牌。",
    "console.disconnected": "已断开部门账户。",
    "console.departmentLabel": "部门",
    "console.departmentNumber": "（编号 {id}）",
    "console.regionLabel": "行政区划",
    "console.scopesLabel": "授权范围",
    "console.suspended": "本部门已被暂停：所有写操作将被拒绝，直至恢复。",
    "console.anchorHeading": "证照存证",
    "console.fileLabel": "证照文件",
    "console.chooseFile": "选择文件",
    "console.noFile": "未选择文件",
    "console.typeLabel": "证照类型",
    "console.subjectLabel": "持证人身份证号码或统一社会信用代码",
    "console.expiresLabel": "有效期至",
    "console.storeLabel": "在文档存储中保存副本（个人证照加密保存）",
    "console.anchor": "存证",
    "console.anchored": "已存证。文件哈希：",
    "console.anchoredBlock": "区块 {block}",
    "console.fileMissing": "请选择证照文件。",
    "console.subjectRequired": "请输入持证人身份证号码或统一社会信用代码。",
    "console.noTypes": "本部门没有可签发的证照类型。",
    "console.noCategories": "本部门没有可记录的信用类别。",
    "console.revokeHeading": "撤销证照",
    "console.hashLabel": "文件哈希",
    "console.reasonLabel": "撤销原因",
    "console.revoke": "撤销",
    "console.revoked": "证照已撤销，当前状态：{status}。",
    "console.creditHeading": "记录信用事件",
    "console.categoryLabel": "信用类别",
    "console.polarityLabel": "性质",
    "console.severityLabel": "严重程度（1–5）",
    "console.occurredLabel": "发生日期",
    "console.evidenceLabel": "证据文件哈希",
    "console.record": "记录",
    "console.recorded": "信用事件已记录（区块 {block}）。事件编号：",
    "console.severityInvalid": "严重程度应为 1 到 5 之间的整数。",
    "console.dateMissing": "请选择发生日期。",
    "console.listHeading": "本部门证照",
    "console.refresh": "刷新",
    "console.more": "加载更多",
    "console.listEmpty": "本部门尚未存证任何证照。",
    "console.listCount": "已显示 {count} 条",
    "console.colHash": "文件哈希",
    "console.colType": "证照类型",
    "console.colStatus": "状态",
    "console.colAnchored": "存证时间",
    "console.colExpires": "有效期至",
    "console.colActions": "操作",
    "console.revokeRow": "撤销",
    "console.revokeRowLabel": "撤销证照 {hash}",

    "error.network": "无法连接到服务，请检查网络后重试。",
    "error.unauthenticated": "登录已失效或令牌无效，请重新登录。",
    "error.unauthorized": "登录已失效或令牌无效，请重新登录。",
    "error.not_authorized": "您无权执行此操作。",
    "error.forbidden": "您无权执行此操作。",
    "error.department_suspended": "本部门已被暂停，暂时不能执行写操作。",
    "error.too_many_requests": "请求过于频繁，请稍后再试。",
    "error.too_many_requestsRetry": "请求过于频繁，请在 {seconds} 秒后再试。",
    "error.content_too_large": "文件过大，超出了服务允许的上限。",
    "error.unavailable": "区块链节点或文档存储暂时无法访问，请稍后再试。",
    "error.not_found": "未找到相应记录。",
    "error.invalid_identifier": "身份证号码或统一社会信用代码无效，请检查是否输入有误。",
    "error.duplicate": "该记录已存在（例如此文件已存证）。",
    "error.conflict": "与记录的当前状态冲突（例如证照已撤销）。",
    "error.chain_unavailable": "区块链节点暂时无法访问，请稍后再试。",
    "error.invalid_document": "无法读取该文件（结构化证照格式有误）。",
    "error.invalid_proof": "所附的批量存证证明格式有误，无法读取。",
    "error.dev_issuer_disabled": "本服务未启用演示身份认证，请使用身份认证服务的令牌登录。",
    "error.status.400": "请求格式有误。",
    "error.status.401": "需要登录。",
    "error.status.403": "您无权执行此操作。",
    "error.status.404": "未找到相应记录。",
    "error.status.409": "与当前状态冲突（例如已存证或已撤销）。",
    "error.status.413": "文件过大，超出了服务允许的上限。",
    "error.status.415": "不支持的内容类型。",
    "error.status.422": "提交的内容未通过校验。",
    "error.status.429": "请求过于频繁，请稍后再试。",
    "error.status.500": "服务内部错误。",
    "error.status.503": "服务暂时不可用，请稍后再试。",
    "error.generic": "请求失败（状态 {status}）。",
    "error.fields": "有问题的字段：{fields}",
    "error.unexpected": "发生意外错误，请刷新页面后重试。",
  },

  en: {
    "site.title": "Government Certificate & Credit Ledger",
    "site.subtitle": "Certificate verification · Public credit records",
    "site.footer":
      "Verification runs against the public ledger: files you verify are not kept. This service never shows identity numbers or credit codes on pages, on chain or in logs.",
    "common.skip": "Skip to main content",
    "nav.label": "Main navigation",
    "nav.verify": "Verify",
    "nav.citizen": "Citizens & enterprises",
    "nav.console": "Department console",
    "lang.switch": "中文",
    "lang.switchLabel": "切换到中文",
    "common.none": "—",
    "common.department": "Department {id}",
    "common.departmentRegion": "Department {id} (region {region})",
    "common.departmentNamed": "{name} ({region})",
    "common.cancel": "Cancel",
    "common.verifyLink": "Verify",
    "common.verifyLinkLabel": "Verify hash {hash}",
    "common.optional": "(optional)",

    "verify.pageTitle": "Verify a certificate · Government Certificate & Credit Ledger",
    "verify.heading": "Verify a certificate",
    "verify.lead":
      "Upload a certificate you were given, or paste its document hash, to check on the public ledger that an accredited department issued it and that it is still valid.",
    "verify.byFile": "Verify a file",
    "verify.dropHint": "Drop a file here, or click to choose one",
    "verify.dropActive": "Release to verify",
    "verify.fileChosen": "Chosen: {name}",
    "verify.fileNote": "The file is used for this check only and is not kept.",
    "verify.byHash": "Verify a document hash",
    "verify.hashLabel": "Document hash",
    "verify.hashHint": "0x followed by 64 hexadecimal digits.",
    "verify.hashInvalid": "A document hash is 0x followed by 64 hexadecimal digits.",
    "verify.proofLabel": "Batch proof (optional)",
    "verify.proofChoose": "Choose a proof file",
    "verify.proofNone": "No proof added",
    "verify.proofRemove": "Remove",
    "verify.proofRemoveLabel": "Remove the batch proof",
    "verify.proofHint":
      "Only for a certificate anchored in a batch: add the .proof.json file that came with it, or drop it here. A wrapped JSON certificate carries its proof inside: nothing to add.",
    "verify.proofHashHint":
      "Only for a certificate anchored in a batch: add its .proof.json file. A wrapped JSON certificate carries its proof inside: verify the file itself instead.",
    "verify.proofNotJson":
      "The batch proof is not a valid JSON file, so nothing was sent. Choose the .proof.json file that came with the certificate.",
    "verify.proofTooLarge":
      "The batch proof is too large (at most 16 KiB), so nothing was sent. Check that you chose the .proof.json file.",
    "verify.proofUsed": "Batch proof",
    "verify.check": "Verify",
    "verify.verifying": "Verifying…",
    "verify.resultHeading": "Result",
    "verify.valid": "Valid",
    "verify.invalid": "Invalid",
    "verify.summaryValid": "Every check passed ({passed} passed, {na} not applicable).",
    "verify.summaryInvalid":
      "{failed} check(s) failed, {passed} passed, {na} not applicable.",
    "verify.checksCaption": "Checks",
    "verify.colOutcome": "Result",
    "verify.colCheck": "Check",
    "verify.colDetail": "Detail",
    "verify.documentHash": "Document hash",
    "verify.documentKind": "Kind",
    "verify.checkedAt": "Checked at",
    "verify.recordHeading": "Anchored record",
    "verify.issuer": "Issued by",
    "verify.type": "Certificate type",
    "verify.region": "Region",
    "verify.anchoredAt": "Anchored at",
    "verify.anchoredBlock": "Block",
    "verify.expiresAt": "Expires",
    "verify.status": "Status",
    "verify.noExpiry": "No expiry",
    "kind.file": "File",
    "kind.certificate": "Structured certificate",

    "outcome.passed": "Passed",
    "outcome.failed": "Failed",
    "outcome.not_applicable": "Not applicable",
    "check.document.parsed": "Document parsed",
    "check.document.hash": "Document hash computed",
    "check.merkle.proof": "Merkle proof",
    "check.anchor.exists": "Anchored on chain",
    "check.issuer.accredited": "Issuer accredited",
    "check.status.current": "Current status",
    "check.dates.valid": "Validity dates",
    "check.bundle.parts": "Bundle parts",
    "check.finality.confirmations": "Confirmations",
    "check.chain.agreement": "Nodes agree",
    "check.storage.copy": "Stored copy",

    "status.active": "Active",
    "status.suspended": "Suspended",
    "status.revoked": "Revoked",
    "status.superseded": "Superseded",
    "status.unknown": "Unknown",

    "amendment.none": "Current",
    "amendment.corrected": "Corrected",
    "amendment.withdrawn": "Withdrawn",
    "amendment.repaired": "Credit repaired",
    "amendment.disputed": "Disputed",
    "amendment.upheld": "Dispute not upheld",

    "polarity.negative": "Negative",
    "polarity.positive": "Positive",

    "reason.issued-in-error": "Issued in error",
    "reason.fraud": "Fraud",
    "reason.holder-request": "Holder's request",
    "reason.renewal": "Renewal",
    "reason.correction": "Correction",
    "reason.court-order": "Court order",
    "reason.investigation": "Under investigation",
    "reason.licence-withdrawn": "Licence withdrawn",
    "reason.other": "Other",

    "citizen.pageTitle": "Citizens & enterprises · Government Certificate & Credit Ledger",
    "citizen.heading": "My certificates and credit",
    "citizen.lead":
      "Log in through the identity provider to see the certificates issued to you and the credit records about you, and to dispute a record you believe is wrong.",
    "citizen.loginHeading": "Log in",
    "citizen.loginLead": "Log in through the identity provider configured for this service.",
    "citizen.devHeading": "Demo identity provider",
    "citizen.devHint":
      "In the demo the service issues login tokens itself. Type a demo identity number or unified social credit code.",
    "citizen.subjectLabel": "Identity number or unified social credit code",
    "citizen.login": "Log in",
    "citizen.tokenHeading": "Use a token from your identity provider",
    "citizen.tokenHint": "If your identity provider gave you a token (JWT), paste it below.",
    "citizen.tokenLabel": "Identity token",
    "citizen.useToken": "Use this token",
    "citizen.subjectMissing": "Type an identity number or unified social credit code.",
    "citizen.tokenMissing": "Paste an identity token.",
    "citizen.notCitizenToken": "This token is not a citizen or enterprise identity token.",
    "citizen.loggedInCitizen": "Logged in as a citizen",
    "citizen.loggedInEnterprise": "Logged in as an enterprise",
    "citizen.logout": "Log out",
    "citizen.loggedOut": "You are logged out.",
    "citizen.sessionNote": "The login is kept in this browser tab only and ends when you close it.",
    "citizen.certsHeading": "My certificates",
    "citizen.certsEmpty": "No certificates have been issued to you.",
    "citizen.colType": "Certificate type",
    "citizen.colDepartment": "Issued by",
    "citizen.colStatus": "Status",
    "citizen.colAnchored": "Issued",
    "citizen.colExpires": "Expires",
    "citizen.colHash": "Document hash",
    "citizen.creditHeading": "My credit record",
    "citizen.creditEmpty": "There are no credit records about you.",
    "citizen.score": "Credit score",
    "citizen.scoreDetail": "Policy {policy}, {events} record(s) counted",
    "citizen.colCategory": "Category",
    "citizen.colPolarity": "Polarity",
    "citizen.colSeverity": "Severity",
    "citizen.colRecorder": "Recorded by",
    "citizen.colOccurred": "Occurred",
    "citizen.colRecorded": "Recorded",
    "citizen.colAmendment": "State",
    "citizen.colAmended": "Amended",
    "citizen.colActions": "Actions",
    "citizen.dispute": "Dispute",
    "citizen.disputeLabel": "Dispute record {id}",
    "citizen.disputeHeading": "Dispute a credit record",
    "citizen.disputeLead":
      "Say why you believe this record is wrong. The recording department reviews it and answers; only a hash of your reason goes on chain.",
    "citizen.disputeReason": "Reason",
    "citizen.disputeSubmit": "Submit dispute",
    "citizen.disputeDone": "Your dispute was recorded; the record is now shown as disputed.",
    "citizen.reasonMissing": "Give a reason for the dispute.",

    "console.pageTitle": "Department console · Government Certificate & Credit Ledger",
    "console.heading": "Department console",
    "console.lead":
      "With your department's API token: anchor certificates, revoke them, record credit events and list your department's certificates.",
    "console.tokenHeading": "Connect your department",
    "console.tokenLabel": "Department API token",
    "console.tokenHint":
      "Starts with gld_ and is shown once when issued. It is kept in this browser tab only.",
    "console.connect": "Connect",
    "console.disconnect": "Disconnect",
    "console.tokenMissing": "Paste the department API token.",
    "console.notDepartment": "This is not a department token.",
    "console.disconnected": "Disconnected.",
    "console.departmentLabel": "Department",
    "console.departmentNumber": " (no. {id})",
    "console.regionLabel": "Region",
    "console.scopesLabel": "Accredited for",
    "console.suspended":
      "This department is suspended: every write is refused until it is reinstated.",
    "console.anchorHeading": "Anchor a certificate",
    "console.fileLabel": "Certificate file",
    "console.chooseFile": "Choose a file",
    "console.noFile": "No file chosen",
    "console.typeLabel": "Certificate type",
    "console.subjectLabel": "Holder's identity number or unified social credit code",
    "console.expiresLabel": "Expires on",
    "console.storeLabel": "Keep a copy in the document store (encrypted for personal types)",
    "console.anchor": "Anchor",
    "console.anchored": "Anchored. Document hash:",
    "console.anchoredBlock": "block {block}",
    "console.fileMissing": "Choose the certificate file.",
    "console.subjectRequired": "Type the holder's identity number or unified social credit code.",
    "console.noTypes": "This department is not accredited for any certificate type.",
    "console.noCategories": "This department is not accredited for any credit category.",
    "console.revokeHeading": "Revoke a certificate",
    "console.hashLabel": "Document hash",
    "console.reasonLabel": "Reason",
    "console.revoke": "Revoke",
    "console.revoked": "Certificate revoked; its status is now {status}.",
    "console.creditHeading": "Record a credit event",
    "console.categoryLabel": "Category",
    "console.polarityLabel": "Polarity",
    "console.severityLabel": "Severity (1–5)",
    "console.occurredLabel": "Occurred on",
    "console.evidenceLabel": "Evidence document hash",
    "console.record": "Record",
    "console.recorded": "Credit event recorded (block {block}). Event id:",
    "console.severityInvalid": "Severity is a whole number from 1 to 5.",
    "console.dateMissing": "Choose the date it occurred.",
    "console.listHeading": "Our certificates",
    "console.refresh": "Refresh",
    "console.more": "Load more",
    "console.listEmpty": "This department has not anchored any certificate yet.",
    "console.listCount": "{count} shown",
    "console.colHash": "Document hash",
    "console.colType": "Certificate type",
    "console.colStatus": "Status",
    "console.colAnchored": "Anchored",
    "console.colExpires": "Expires",
    "console.colActions": "Actions",
    "console.revokeRow": "Revoke",
    "console.revokeRowLabel": "Revoke certificate {hash}",

    "error.network": "The service cannot be reached. Check the connection and try again.",
    "error.unauthenticated": "Your login has expired or the token is not valid. Log in again.",
    "error.unauthorized": "Your login has expired or the token is not valid. Log in again.",
    "error.not_authorized": "You are not allowed to do this.",
    "error.forbidden": "You are not allowed to do this.",
    "error.department_suspended": "This department is suspended and cannot write for now.",
    "error.too_many_requests": "Too many requests. Try again in a moment.",
    "error.too_many_requestsRetry": "Too many requests. Try again in {seconds} seconds.",
    "error.content_too_large": "The file is larger than the service accepts.",
    "error.unavailable":
      "The chain node or the document store does not answer. Try again in a moment.",
    "error.not_found": "No such record.",
    "error.invalid_identifier":
      "The identity number or unified social credit code is not valid. Check it for typing mistakes.",
    "error.duplicate": "This already exists (the document is already anchored, say).",
    "error.conflict": "This conflicts with the record's current state (already revoked, say).",
    "error.chain_unavailable": "The chain node does not answer. Try again in a moment.",
    "error.invalid_document": "The document cannot be read (a malformed structured certificate).",
    "error.invalid_proof": "The batch proof is malformed and cannot be read.",
    "error.dev_issuer_disabled":
      "The demo identity provider is not enabled here. Log in with a token from your identity provider.",
    "error.status.400": "The request was malformed.",
    "error.status.401": "You need to log in.",
    "error.status.403": "You are not allowed to do this.",
    "error.status.404": "No such record.",
    "error.status.409": "This conflicts with the current state (already anchored or revoked, say).",
    "error.status.413": "The file is larger than the service accepts.",
    "error.status.415": "That content type is not accepted.",
    "error.status.422": "Some of what you entered is not valid.",
    "error.status.429": "Too many requests. Try again in a moment.",
    "error.status.500": "The service failed unexpectedly.",
    "error.status.503": "The service is unavailable for now. Try again in a moment.",
    "error.generic": "The request failed (status {status}).",
    "error.fields": "Fields to check: {fields}",
    "error.unexpected": "Something unexpected happened. Reload the page and try again.",
  },
};

function readStoredLanguage() {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function storeLanguage(lang) {
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Storage can be disabled; the choice then lasts for this page only.
  }
}

function resolveInitialLanguage() {
  const fromUrl = new URLSearchParams(window.location.search).get("lang");
  if (LANGUAGES.includes(fromUrl)) {
    storeLanguage(fromUrl);
    return fromUrl;
  }
  const stored = readStoredLanguage();
  return LANGUAGES.includes(stored) ? stored : DEFAULT_LANGUAGE;
}

let current = resolveInitialLanguage();

/** The current language: "zh" or "en". */
export function getLanguage() {
  return current;
}

/** The BCP 47 tag of the current language, for <html lang> and Intl. */
export function languageTag(lang = current) {
  return lang === "zh" ? "zh-CN" : "en";
}

/** Switch language, remember the choice and keep ?lang= in the address bar in step. */
export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  current = lang;
  storeLanguage(lang);
  const url = new URL(window.location.href);
  url.searchParams.set("lang", lang);
  window.history.replaceState(window.history.state, "", url);
}

/** Whether the dictionary has ``key`` in the current language. */
export function has(key) {
  return Object.hasOwn(DICTIONARY[current], key);
}

/** The string for ``key``, with {placeholders} filled from ``values``. */
export function t(key, values = {}) {
  const template = DICTIONARY[current][key] ?? DICTIONARY[DEFAULT_LANGUAGE][key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/** Translate the static markup: data-i18n (text) and data-i18n-{placeholder,aria-label,title}. */
export function translateDocument(root = document) {
  document.documentElement.lang = languageTag();
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const [attribute, dataKey] of [
    ["placeholder", "i18nPlaceholder"],
    ["aria-label", "i18nAriaLabel"],
    ["title", "i18nTitle"],
  ]) {
    for (const node of root.querySelectorAll(`[data-${attributeToData(dataKey)}]`)) {
      node.setAttribute(attribute, t(node.dataset[dataKey]));
    }
  }
}

function attributeToData(dataKey) {
  return dataKey.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
