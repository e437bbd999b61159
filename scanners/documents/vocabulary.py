"""The words documents use, in every language we read, kept in one place.

Each concept maps to the words that say it in English, German, French, Italian,
Portuguese, Spanish, Russian, Chinese, Japanese and Korean. The classifiers in
``signals``, ``fields``, ``planning`` and ``statements`` build their patterns from these
lists, so adding a language means adding words here and nowhere else.

Words in scripts without spaces between words (Chinese, Japanese, Korean) cannot use word
boundaries; :func:`alternation` keeps them apart from the others for that reason.
"""

from __future__ import annotations

import re


def _w(words: str) -> tuple[str, ...]:
    return tuple(words.split("|"))


# --- severity levels (a field value, a table cell, a heading framed as a severity) --------

SEVERITY: dict[str, tuple[str, ...]] = {
    "critical": _w(
        "critical|crit|blocker|critici|critiche|críticos|críticas|severe|kritisch|critique|sévère|critico|critica|crítico|"
        "crítica|bloccante|bloqueante|критический|критическая|критично|критическое|"
        "критичный|блокер|严重|致命|关键|嚴重|重大|致命的|緊急|严重问题|치명적|심각|긴급"
    ),
    "high": _w(
        "high|major|important|hoch|hohe|haute|élevée|élevé|elevee|alto|alta|elevato|"
        "elevata|importante|высокий|высокая|высокое|важный|高危|高优先级|優先度高|높음|높은|중대"
    ),
    "medium": _w(
        "medium|moderate|warning|mittel|mittlere|moyen|moyenne|modérée|modéré|medio|media|médio|"
        "média|moderato|moderada|средний|средняя|среднее|中等|中危|中优先级|中程度|優先度中|보통|중간"
    ),
    "low": _w(
        "low|minor|niedrig|gering|faible|basse|mineure|mineur|basso|bassa|baixo|baixa|"
        "bajo|baja|minore|menor|низкий|низкая|низкое|незначительный|低危|低优先级|轻微|軽微|優先度低|낮음|"
        "낮은"
    ),
    "info": _w(
        "info|informational|informativ|information|trivial|informativo|informação|"
        "información|информационный|信息|提示|情報|정보"
    ),
}

# --- claimed status ----------------------------------------------------------------------

STATUS: dict[str, tuple[str, ...]] = {
    "partial": _w(
        "partial|partially|in progress|work in progress|wip|teilweise|in arbeit|partiel|"
        "partielle|partiellement|en cours|parziale|parzialmente|in corso|mitigato|parcial|"
        "parcialmente|em andamento|em progresso|en progreso|частично|в процессе|в работе|"
        "部分|进行中|處理中|対応中|進行中|一部|부분|진행 중|진행중"
    ),
    "not_fixed": _w(
        "not fixed|not started|not yet started|non iniziato|não iniciado|no iniciado|"
        "не начато|未开始|未着手|not yet fixed|not resolved|not addressed|not done|not implemented|"
        "unfixed|unresolved|nicht behoben|non corrigé|non résolu|non corretto|non risolto|"
        "não corrigido|não resolvido|no corregido|no resuelto|не исправлено|не исправлен|"
        "未修复|未解决|未修正|未対応|미해결|미수정"
    ),
    "fixed": _w(
        "fixed|resolved|completed|complete|done|implemented|applied|merged|addressed|"
        "closed|patched|remediated|behoben|erledigt|gelöst|abgeschlossen|corrigé|corrigée|"
        "corrigés|résolu|résolue|terminé|terminée|appliqué|corretto|corretta|risolto|"
        "risolta|completato|completata|già ok|corrigido|corrigida|resolvido|resolvida|"
        "concluído|concluída|implementado|corregido|corregida|resuelto|resuelta|"
        "completado|исправлено|исправлен|исправлена|решено|выполнено|готово|已修复|已解决|已完成|"
        "修复完成|已修正|修正済み|修正完了|解決済み|対応済み|完了|수정됨|수정 완료|해결됨|완료"
    ),
    "identified": _w(
        "identified|discovered|found|open|remaining|rimanenti|restanti|restantes|pendientes|"
        "оставшиеся|剩余|残り|残存|남은|deferred|rinviato|adiado|aplazado|отложено|延期|outstanding|remaining|pending|known|detected|"
        "reported|gefunden|offen|identifiziert|identifié|identifiée|ouvert|ouverte|"
        "détecté|aperto|aperta|da fare|in sospeso|aberto|aberta|pendente|abierto|abierta|"
        "pendiente|открыто|открыт|не решено|待修复|待处理|未处理|未対応|保留|열림|대기"
    ),
    "recommended": _w(
        "recommended|recommendation|recommendations|proposed|proposal|suggested|"
        "suggestion|planned|todo|to do|empfohlen|empfehlung|geplant|recommandé|"
        "recommandée|recommandation|proposé|consigliato|raccomandato|raccomandazione|"
        "recomendado|recomendação|recomendación|рекомендуется|рекомендация|建议|推荐|推奨|提案|권장|"
        "제안"
    ),
}

# --- section and label words ---------------------------------------------------------------

SECTION: dict[str, tuple[str, ...]] = {
    "before": _w("before|vorher|avant|prima|antes|до|修复前|修正前|改善前|之前|以前|이전|수정 전"),
    "after": _w(
        "after|nachher|après|dopo|depois|después|после|修复后|修正後|改善後|之后|以后|이후|수정 후"
    ),
    "projected": _w(
        "projected|expected|target|goal|estimated|erwartet|ziel|prévu|objectif|previsto|"
        "obiettivo|esperado|meta|objetivo|цель|ожидается|прогноз|预期|目标|目標|見込み|목표|예상"
    ),
    # "| Scenario | Risk |" over "| Re-deployment | None |": no risk at all.
    "no_risk": _w(
        "none|no|nil|zero|keine|kein|aucun|aucune|nessuno|nessun|nenhum|ninguno|нет|无|なし|없음"
    ),
    "scenario": _w(
        "scenario|scenarios|szenario|szenarien|scénario|scénarios|scenari|cenário|cenários|"
        "escenario|escenarios|сценарий|сценарии|场景|情景|シナリオ|시나리오"
    ),
    "metric": _w(
        "metric|metrics|measure|kpi|indicator|kennzahl|metrik|métrique|indicateur|metrica|"
        "métrica|indicador|метрика|показатель|指标|指標|メトリクス|지표"
    ),
    "recommendations": _w(
        "recommendations|recommended actions|empfehlungen|recommandations|raccomandazioni|"
        "suggerimenti|recomendações|recomendaciones|рекомендации|建议|推荐|推奨事項|推奨|"
        "권장 사항|권장사항"
    ),
    "next_steps": _w(
        "next steps|next actions|nächste schritte|prochaines étapes|prossimi passi|"
        "passi successivi|próximos passos|próximos pasos|siguientes pasos|следующие шаги|"
        "дальнейшие шаги|下一步|后续步骤|次のステップ|今後の対応|今後の課題|다음 단계|향후 계획"
    ),
    "health": _w(
        "health|gesundheit|santé|salute|saúde|salud|здоровье|состояние системы|健康|健康状况|"
        "ヘルス|健全性|상태 점검|건강"
    ),
    "status": _w(
        "status|state|zustand|statut|état|stato|estado|situação|situación|статус|"
        "состояние|状态|状況|ステータス|상태"
    ),
    "positive": _w(
        "positive findings|strengths|what works|what's working|what is working|"
        "stärken|positive befunde|points forts|constats positifs|punti di forza|"
        "pontos fortes|fortalezas|сильные стороны|优点|优势|良い点|強み|강점"
    ),
    "risk": _w(
        "risk|risks|risiko|risiken|risque|risques|rischio|rischi|risco|riscos|riesgo|riesgos|"
        "риск|риски|风险|風險|リスク|위험"
    ),
    "verification": _w(
        "verification|verification results|verification steps|test results|testing|"
        "how to verify|smoke test|überprüfung|verifikation|testergebnisse|vérification|"
        "résultats des tests|verifica|verifiche|risultati dei test|verificação|verificações|"
        "resultados dos testes|verificación|resultados de las pruebas|проверка|"
        "результаты проверки|результаты тестов|验证|测试验证|验证结果|测试结果|検証|検証結果|"
        "動作確認|テスト結果|검증|검증 결과|테스트 결과"
    ),
}

# A table's first column that makes its rows events or checks, not areas of the system:
# a timeline ("| Time | Event |") or a matrix of single test cases ("| Test | Before |").
# A category of tests ("Test Category", "Test Suite") is an area and is not listed.
ROW_KEY: dict[str, tuple[str, ...]] = {
    "time": _w(
        "time|timestamp|date|when|zeit|uhrzeit|datum|heure|horodatage|ora|orario|data|hora|"
        "fecha|время|дата|时间|日期|時間|時刻|日時|시간|날짜"
    ),
    "test_case": _w(
        "test|test case|testcase|check|testfall|prüfung|cas de test|caso di test|caso de teste|"
        "caso de prueba|тест|проверка|测试|测试用例|テスト|テストケース|테스트"
    ),
}

# Field labels by the kind of field they introduce (added to the English-first lists in
# ``fields``).
LABELS: dict[str, tuple[str, ...]] = {
    "severity": _w(
        "gravità|severità|priorità|gravidade|severidade|prioridade|gravedad|severidad|"
        "prioridad|серьезность|серьёзность|критичность|приоритет|важность|严重程度|严重性|优先级|"
        "重要度|深刻度|優先度|심각도|우선순위"
    ),
    "status": _w("stato|estado|situação|статус|состояние|状态|狀態|状況|ステータス|상태"),
    "files": _w(
        "file modificati|arquivo|arquivos|arquivos modificados|archivo|archivos|файл|"
        "файлы|文件|修改文件|ファイル|対象ファイル|파일"
    ),
    "lines": _w("righe|riga|linha|linhas|línea|líneas|строка|строки|行|行号|行番号|줄"),
    "problem": _w(
        "descrizione|problema|descrição|descripción|описание|проблема|问题|描述|問題|説明|문제|설명|"
        "causa|causa principale|causa raiz|causa raíz|sintomo|sintomi|sintoma|sintomas|síntoma|"
        "síntomas|причина|первопричина|симптомы|原因|根本原因|现象|症状|근본 원인|원인|증상"
    ),
    "fix": _w(
        "soluzione|correzione|solução|correção|solución|corrección|решение|исправление|修复|"
        "解决方案|修正|対策|수정|해결"
    ),
    "impact": _w("impacto|impatto|влияние|影响|影響|영향"),
    "commit": _w("коммит|提交|コミット|커밋"),
}

# Words that name a phase of a plan ("Fase 2", "Этап 3", "阶段 1").
PHASE: tuple[str, ...] = _w("fase|этап|фаза|阶段|フェーズ|단계")

# Words that label one finding in a heading ("ЗАДАЧА #1:", "问题2:", "Problema 3 -").
LABELLED: tuple[str, ...] = _w(
    "problema|errore|correzione|erro|correção|tarefa|error|corrección|tarea|задача|"
    "проблема|исправление|ошибка|баг|问题|修复|缺陷|任务|問題|修正|不具合|課題|문제|수정|버그"
)

# Words that name a set of issues in a heading ("Problemi noti", "Оставшиеся проблемы").
COLLECTION: tuple[str, ...] = _w(
    "problemi|bug|errori|correzioni|problemas|erros|correções|errores|correcciones|"
    "проблемы|ошибки|баги|исправления|уязвимости|问题|缺陷|修复|漏洞|問題|不具合|修正|脆弱性|"
    "문제|버그|수정|취약점"
)

TITLE_WORDS: tuple[str, ...] = _w(
    "descrizione|problema|titolo|título|titulo|descrição|descripción|заголовок|название|"
    "проблема|задача|标题|问题|タイトル|問題|件名|제목|문제"
)

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def is_cjk(word: str) -> bool:
    return bool(_CJK_RE.search(word))


def alternation(words: tuple[str, ...] | list[str]) -> str:
    """A regex alternation of ``words``: bounded by non-word characters, except words in
    scripts without spaces, which stand on their own. Longest first, so compounds win."""
    spaced = sorted((w for w in words if not is_cjk(w)), key=len, reverse=True)
    dense = sorted((w for w in words if is_cjk(w)), key=len, reverse=True)
    parts = []
    if spaced:
        body = "|".join(re.escape(w).replace(r"\ ", r"[\s_-]+") for w in spaced)
        parts.append(rf"(?<!\w)(?:{body})(?![\w-])")
    if dense:
        parts.append("|".join(re.escape(w) for w in dense))
    return "|".join(parts) or r"(?!x)x"


def compiled(words: tuple[str, ...] | list[str]) -> re.Pattern[str]:
    return re.compile(alternation(words), re.IGNORECASE)
