"""The Art. 17 DSA statement to the affected user, in their language (es, ca, gl, eu, en).

It says what was restricted, on which ground, whether automated means detected and decided it, and how to
contest it: the internal complaint (an appeal, filed through the platform with POST /v1/appeals), an
out-of-court dispute settlement body (Art. 21) and the courts. No detector scores, no other user's data.
"""

from __future__ import annotations

from typing import Any

from amparo.errors import BadInput
from amparo.reports.categories import ILLEGAL
from amparo.reports.record import DecisionRecord

LANGUAGES = ("es", "ca", "gl", "eu", "en")

_T: dict[str, dict[str, str]] = {
    "en": {
        "title": "Statement of reasons (Article 17, Digital Services Act)",
        "what": "What we did: {restriction} on {date}.",
        "why_illegal": "Why: we consider the content illegal ({law}).",
        "why_tc": "Why: the content is not allowed by our terms of service ({law}).",
        "auto_yes": "Automated means detected this content.",
        "auto_no": "A person reported or found this content; no automated means detected it.",
        "dec_fully": "The decision was taken by automated means.",
        "dec_partially": "Automated means took the decision and a moderator confirmed it.",
        "dec_not": "A moderator took the decision.",
        "appeal": "How to contest it: you can file a complaint with us free of charge within six months; "
        "a different moderator will review it. Quote reference {ref}.",
        "odr": "You can also turn to a certified out-of-court dispute settlement body (Article 21 DSA) "
        "or to the courts.",
        "removed": "removal of the content",
        "disabled": "we did not produce or publish the content",
        "age_restricted": "age restriction of the content",
        "labelled": "a label on the content",
        "account": "restriction of your account",
    },
    "es": {
        "title": "Declaración de motivos (artículo 17 del Reglamento de Servicios Digitales)",
        "what": "Qué hemos hecho: {restriction} el {date}.",
        "why_illegal": "Por qué: consideramos que el contenido es ilícito ({law}).",
        "why_tc": "Por qué: el contenido no está permitido por nuestras condiciones de servicio ({law}).",
        "auto_yes": "El contenido se detectó por medios automatizados.",
        "auto_no": "Una persona notificó o encontró el contenido; no se detectó por medios automatizados.",
        "dec_fully": "La decisión se tomó por medios automatizados.",
        "dec_partially": "La decisión se tomó por medios automatizados y la confirmó un moderador.",
        "dec_not": "La decisión la tomó un moderador.",
        "appeal": "Cómo recurrirla: puede presentarnos una reclamación gratuita en un plazo de seis meses; "
        "la revisará otro moderador. Indique la referencia {ref}.",
        "odr": "También puede acudir a un órgano certificado de resolución extrajudicial de litigios "
        "(artículo 21) o a los tribunales.",
        "removed": "retirada del contenido",
        "disabled": "no hemos generado ni publicado el contenido",
        "age_restricted": "restricción por edad del contenido",
        "labelled": "una etiqueta en el contenido",
        "account": "restricción de su cuenta",
    },
    "ca": {
        "title": "Declaració de motius (article 17 del Reglament de serveis digitals)",
        "what": "Què hem fet: {restriction} el {date}.",
        "why_illegal": "Per què: considerem que el contingut és il·lícit ({law}).",
        "why_tc": "Per què: el contingut no està permès per les nostres condicions del servei ({law}).",
        "auto_yes": "El contingut es va detectar per mitjans automatitzats.",
        "auto_no": "Una persona va notificar o trobar el contingut; no es va detectar per mitjans automatitzats.",
        "dec_fully": "La decisió es va prendre per mitjans automatitzats.",
        "dec_partially": "La decisió es va prendre per mitjans automatitzats i la va confirmar un moderador.",
        "dec_not": "La decisió la va prendre un moderador.",
        "appeal": "Com recórrer-la: ens podeu presentar una reclamació gratuïta en un termini de sis mesos; "
        "la revisarà un altre moderador. Indiqueu la referència {ref}.",
        "odr": "També podeu recórrer a un organisme certificat de resolució extrajudicial de litigis "
        "(article 21) o als tribunals.",
        "removed": "retirada del contingut",
        "disabled": "no hem generat ni publicat el contingut",
        "age_restricted": "restricció per edat del contingut",
        "labelled": "una etiqueta al contingut",
        "account": "restricció del vostre compte",
    },
    "gl": {
        "title": "Declaración de motivos (artigo 17 do Regulamento de servizos dixitais)",
        "what": "Que fixemos: {restriction} o {date}.",
        "why_illegal": "Por que: consideramos que o contido é ilícito ({law}).",
        "why_tc": "Por que: o contido non está permitido polas nosas condicións do servizo ({law}).",
        "auto_yes": "O contido detectouse por medios automatizados.",
        "auto_no": "Unha persoa notificou ou atopou o contido; non se detectou por medios automatizados.",
        "dec_fully": "A decisión tomouse por medios automatizados.",
        "dec_partially": "A decisión tomouse por medios automatizados e confirmouna un moderador.",
        "dec_not": "A decisión tomouna un moderador.",
        "appeal": "Como recorrela: pode presentarnos unha reclamación gratuíta nun prazo de seis meses; "
        "revisaraa outro moderador. Indique a referencia {ref}.",
        "odr": "Tamén pode acudir a un órgano certificado de resolución extraxudicial de litixios "
        "(artigo 21) ou aos tribunais.",
        "removed": "retirada do contido",
        "disabled": "non xeramos nin publicamos o contido",
        "age_restricted": "restrición por idade do contido",
        "labelled": "unha etiqueta no contido",
        "account": "restrición da súa conta",
    },
    "eu": {
        "title": "Arrazoien adierazpena (Zerbitzu Digitalei buruzko Erregelamenduaren 17. artikulua)",
        "what": "Zer egin dugu: {restriction} ({date}).",
        "why_illegal": "Zergatik: edukia legez kanpokoa dela uste dugu ({law}).",
        "why_tc": "Zergatik: gure zerbitzu-baldintzek ez dute edukia onartzen ({law}).",
        "auto_yes": "Edukia bitarteko automatizatuen bidez detektatu da.",
        "auto_no": "Pertsona batek jakinarazi edo aurkitu du edukia; ez da bitarteko automatizatuen bidez detektatu.",
        "dec_fully": "Erabakia bitarteko automatizatuen bidez hartu da.",
        "dec_partially": "Erabakia bitarteko automatizatuen bidez hartu da, eta moderatzaile batek berretsi du.",
        "dec_not": "Moderatzaile batek hartu du erabakia.",
        "appeal": "Nola aurka egin: doako erreklamazioa aurkez diezagukezu sei hilabeteko epean; "
        "beste moderatzaile batek berrikusiko du. Adierazi {ref} erreferentzia.",
        "odr": "Auzibidez kanpoko gatazkak konpontzeko organo ziurtatu batera (21. artikulua) "
        "edo auzitegietara ere jo dezakezu.",
        "removed": "edukia kentzea",
        "disabled": "ez dugu edukia sortu ez argitaratu",
        "age_restricted": "edukiari adin-murrizketa ezartzea",
        "labelled": "edukiari etiketa bat jartzea",
        "account": "zure kontua murriztea",
    },
}
_RESTRICTION = {"block": "removed", "refuse": "disabled", "age_restrict": "age_restricted", "label": "labelled"}


def user_statement(rec: DecisionRecord, *, language: str) -> dict[str, Any]:
    """The statement as title + paragraphs (the platform renders it in its own notice)."""
    lang = (language or "").lower()[:2]
    if lang not in _T:
        raise BadInput(f"language must be one of {', '.join(LANGUAGES)}", code="bad_language")
    t = _T[lang]
    from amparo.reports.categories import category_for

    cat = category_for(rec.effective_labels)
    restriction = t[_RESTRICTION.get(rec.decision, "removed")]
    if rec.account_action in ("suspend", "ban", "restrict"):
        restriction = f"{restriction}; {t['account']}"
    ref = f"{rec.decision_id}" + (f" / event {rec.event_id}" if rec.event_id else "")
    paragraphs = [
        t["what"].format(restriction=restriction, date=rec.applied_at.date().isoformat()),
        (t["why_illegal"] if cat.ground == ILLEGAL else t["why_tc"]).format(law=cat.legal_ground),
        t["auto_yes"] if rec.automated_detection else t["auto_no"],
        t[f"dec_{rec.automated_decision}"],
        t["appeal"].format(ref=ref),
        t["odr"],
    ]
    return {
        "language": lang,
        "title": t["title"],
        "paragraphs": paragraphs,
        "appeal": {"route": "POST /v1/appeals", "event_id": rec.event_id, "case_id": rec.case_id},
    }
