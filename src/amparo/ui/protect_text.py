"""The words of the /protect pages in Spanish, Catalan, Galician, Basque and English.

Plain language on purpose: the reader may be frightened, young, or reading on a phone. Every
language has every key (tests/protect/test_protect_pages.py checks it)."""

from __future__ import annotations

LANGUAGES = ("es", "ca", "gl", "eu", "en")
LANGUAGE_NAMES = {"es": "Español", "ca": "Català", "gl": "Galego", "eu": "Euskara", "en": "English"}
DEFAULT_LANGUAGE = "es"

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Stop an intimate image of you from being shared here",
        "lead": "If you fear that an intimate image or video of you may be shared on this platform, you "
        "can have it blocked here without sending us the image.",
        "how_title": "How it works",
        "how_1": "Choose the image or video on your device.",
        "how_2": "Your browser makes fingerprints (hashes) of it. The file stays on your device.",
        "how_3": "Only the fingerprints are sent. Uploads that match them are blocked.",
        "sent_title": "What is sent, and what is not",
        "sent": "Sent: the fingerprints (a PDQ hash of 64 characters for images and an MD5 hash of 32 "
        "characters), whether each file is an image or a video, whether you were under 18, and the "
        "language of this page.",
        "not_sent": "Not sent: the image or video, its name, its date or place, your name, your email or "
        "anything else from your device. Nobody here can see the image or rebuild it from the "
        "fingerprints.",
        "choose": "Image or video (you can choose several)",
        "under18": "I was under 18 in this image or video",
        "confirm": "This is an image or video of me, and I want this platform to block it",
        "submit": "Make the fingerprints and send them",
        "noscript": "This page needs JavaScript to make the fingerprints on your device. Without it, "
        "nothing can be sent.",
        "working": "Making fingerprints on your device…",
        "proving": "Checking that this is not an automated program…",
        "sending": "Sending the fingerprints…",
        "ready": "Fingerprints ready. The file did not leave your device.",
        "done_title": "Done. Keep these two codes",
        "case_number": "Case number",
        "secret": "Secret",
        "secret_note": "The secret is shown only once. We do not keep it, so we cannot send it again. "
        "You need both codes to see the status or to withdraw.",
        "low_quality": "An image has too little detail for a visual fingerprint; only its exact "
        "fingerprint was sent.",
        "error": "Something went wrong and nothing was sent. Please try again.",
        "rate_limited": "Too many attempts from this connection. Please try again later.",
        "need_file": "Choose at least one image or video first.",
        "need_confirm": "Please confirm that the image or video is of you.",
        "case_link": "See the status or withdraw",
        "back": "Back",
        "language": "Language",
        "help": "If you are in danger, call 112. In Spain you can also call 017 (free, confidential "
        "help with online problems) or 116 111 (ANAR, for children and teenagers).",
        "case_title": "Your case",
        "case_lead": "Enter your case number and secret.",
        "check": "See the status",
        "withdraw": "Withdraw my fingerprints",
        "withdraw_note": "Withdrawing removes your fingerprints from this platform's lists and from what it "
        "shares with partner platforms. Matching uploads are then no longer blocked.",
        "status_active": "Active: uploads that match your fingerprints are blocked.",
        "status_withdrawn": "Withdrawn: your fingerprints were removed.",
        "created": "Sent on",
        "withdrawn_on": "Withdrawn on",
        "fingerprints": "Fingerprints",
        "not_found": "There is no case with this number and secret.",
        "files_ready": "Files ready",
    },
    "es": {
        "title": "Impide que una imagen íntima tuya se comparta aquí",
        "lead": "Si temes que una imagen o un vídeo íntimo tuyo se comparta en esta plataforma, puedes "
        "hacer que se bloquee aquí sin enviarnos la imagen.",
        "how_title": "Cómo funciona",
        "how_1": "Elige la imagen o el vídeo en tu dispositivo.",
        "how_2": "Tu navegador crea huellas (hashes) del archivo. El archivo no sale de tu dispositivo.",
        "how_3": "Solo se envían las huellas. Se bloquean las subidas que coinciden con ellas.",
        "sent_title": "Qué se envía y qué no",
        "sent": "Se envía: las huellas (un hash PDQ de 64 caracteres para imágenes y un hash MD5 de 32 "
        "caracteres), si cada archivo es una imagen o un vídeo, si tenías menos de 18 años y el idioma "
        "de esta página.",
        "not_sent": "No se envía: la imagen o el vídeo, su nombre, su fecha o lugar, tu nombre, tu correo "
        "ni nada más de tu dispositivo. Nadie aquí puede ver la imagen ni reconstruirla a partir de "
        "las huellas.",
        "choose": "Imagen o vídeo (puedes elegir varios)",
        "under18": "Tenía menos de 18 años en esta imagen o vídeo",
        "confirm": "Es una imagen o un vídeo mío y quiero que esta plataforma lo bloquee",
        "submit": "Crear las huellas y enviarlas",
        "noscript": "Esta página necesita JavaScript para crear las huellas en tu dispositivo. Sin él no se "
        "puede enviar nada.",
        "working": "Creando las huellas en tu dispositivo…",
        "proving": "Comprobando que no es un programa automático…",
        "sending": "Enviando las huellas…",
        "ready": "Huellas listas. El archivo no ha salido de tu dispositivo.",
        "done_title": "Hecho. Guarda estos dos códigos",
        "case_number": "Número de caso",
        "secret": "Clave secreta",
        "secret_note": "La clave se muestra solo una vez. No la guardamos, así que no podemos volver a "
        "enviártela. Necesitas los dos códigos para ver el estado o retirar las huellas.",
        "low_quality": "Una imagen tiene muy poco detalle para una huella visual; solo se ha enviado su "
        "huella exacta.",
        "error": "Algo ha fallado y no se ha enviado nada. Inténtalo de nuevo.",
        "rate_limited": "Demasiados intentos desde esta conexión. Inténtalo más tarde.",
        "need_file": "Primero elige al menos una imagen o un vídeo.",
        "need_confirm": "Confirma que la imagen o el vídeo es tuyo.",
        "case_link": "Ver el estado o retirar",
        "back": "Volver",
        "language": "Idioma",
        "help": "Si estás en peligro, llama al 112. En España también puedes llamar al 017 (ayuda "
        "gratuita y confidencial con problemas en internet) o al 116 111 (ANAR, para niños, niñas y "
        "adolescentes).",
        "case_title": "Tu caso",
        "case_lead": "Escribe tu número de caso y tu clave secreta.",
        "check": "Ver el estado",
        "withdraw": "Retirar mis huellas",
        "withdraw_note": "Al retirarlas, tus huellas se eliminan de las listas de esta plataforma y de lo "
        "que comparte con plataformas asociadas. Las subidas que coincidan dejarán de bloquearse.",
        "status_active": "Activo: se bloquean las subidas que coinciden con tus huellas.",
        "status_withdrawn": "Retirado: tus huellas se han eliminado.",
        "created": "Enviado el",
        "withdrawn_on": "Retirado el",
        "fingerprints": "Huellas",
        "not_found": "No hay ningún caso con este número y esta clave.",
        "files_ready": "Archivos listos",
    },
    "ca": {
        "title": "Evita que una imatge íntima teva es comparteixi aquí",
        "lead": "Si tems que una imatge o un vídeo íntim teu es comparteixi en aquesta plataforma, pots "
        "fer que s'hi bloquegi sense enviar-nos la imatge.",
        "how_title": "Com funciona",
        "how_1": "Tria la imatge o el vídeo al teu dispositiu.",
        "how_2": "El teu navegador en crea empremtes (hashes). El fitxer no surt del teu dispositiu.",
        "how_3": "Només s'envien les empremtes. Es bloquegen les pujades que hi coincideixen.",
        "sent_title": "Què s'envia i què no",
        "sent": "S'envia: les empremtes (un hash PDQ de 64 caràcters per a imatges i un hash MD5 de 32 "
        "caràcters), si cada fitxer és una imatge o un vídeo, si tenies menys de 18 anys i l'idioma "
        "d'aquesta pàgina.",
        "not_sent": "No s'envia: la imatge o el vídeo, el seu nom, la data o el lloc, el teu nom, el teu "
        "correu ni res més del teu dispositiu. Ningú aquí no pot veure la imatge ni reconstruir-la a "
        "partir de les empremtes.",
        "choose": "Imatge o vídeo (en pots triar diversos)",
        "under18": "Tenia menys de 18 anys en aquesta imatge o vídeo",
        "confirm": "És una imatge o un vídeo meu i vull que aquesta plataforma el bloquegi",
        "submit": "Crear les empremtes i enviar-les",
        "noscript": "Aquesta pàgina necessita JavaScript per crear les empremtes al teu dispositiu. Sense "
        "JavaScript no es pot enviar res.",
        "working": "Creant les empremtes al teu dispositiu…",
        "proving": "Comprovant que no és un programa automàtic…",
        "sending": "Enviant les empremtes…",
        "ready": "Empremtes llestes. El fitxer no ha sortit del teu dispositiu.",
        "done_title": "Fet. Desa aquests dos codis",
        "case_number": "Número de cas",
        "secret": "Clau secreta",
        "secret_note": "La clau només es mostra una vegada. No la desem, així que no te la podem tornar a "
        "enviar. Necessites els dos codis per veure l'estat o retirar les empremtes.",
        "low_quality": "Una imatge té massa poc detall per a una empremta visual; només se n'ha enviat "
        "l'empremta exacta.",
        "error": "Alguna cosa ha fallat i no s'ha enviat res. Torna-ho a provar.",
        "rate_limited": "Massa intents des d'aquesta connexió. Torna-ho a provar més tard.",
        "need_file": "Primer tria almenys una imatge o un vídeo.",
        "need_confirm": "Confirma que la imatge o el vídeo és teu.",
        "case_link": "Veure l'estat o retirar",
        "back": "Tornar",
        "language": "Idioma",
        "help": "Si estàs en perill, truca al 112. A Espanya també pots trucar al 017 (ajuda gratuïta i "
        "confidencial amb problemes a internet) o al 116 111 (ANAR, per a infants i adolescents).",
        "case_title": "El teu cas",
        "case_lead": "Escriu el teu número de cas i la teva clau secreta.",
        "check": "Veure l'estat",
        "withdraw": "Retirar les meves empremtes",
        "withdraw_note": "En retirar-les, les teves empremtes s'eliminen de les llistes d'aquesta plataforma "
        "i del que comparteix amb plataformes associades. Les pujades que hi coincideixin deixaran de "
        "bloquejar-se.",
        "status_active": "Actiu: es bloquegen les pujades que coincideixen amb les teves empremtes.",
        "status_withdrawn": "Retirat: les teves empremtes s'han eliminat.",
        "created": "Enviat el",
        "withdrawn_on": "Retirat el",
        "fingerprints": "Empremtes",
        "not_found": "No hi ha cap cas amb aquest número i aquesta clau.",
        "files_ready": "Fitxers llestos",
    },
    "gl": {
        "title": "Impide que unha imaxe íntima túa se comparta aquí",
        "lead": "Se temes que unha imaxe ou un vídeo íntimo teu se comparta nesta plataforma, podes facer "
        "que se bloquee aquí sen enviarnos a imaxe.",
        "how_title": "Como funciona",
        "how_1": "Escolle a imaxe ou o vídeo no teu dispositivo.",
        "how_2": "O teu navegador crea pegadas (hashes) do ficheiro. O ficheiro non sae do teu dispositivo.",
        "how_3": "Só se envían as pegadas. Bloquéanse as subidas que coinciden con elas.",
        "sent_title": "Que se envía e que non",
        "sent": "Envíase: as pegadas (un hash PDQ de 64 caracteres para imaxes e un hash MD5 de 32 "
        "caracteres), se cada ficheiro é unha imaxe ou un vídeo, se tiñas menos de 18 anos e o idioma "
        "desta páxina.",
        "not_sent": "Non se envía: a imaxe ou o vídeo, o seu nome, a súa data ou lugar, o teu nome, o teu "
        "correo nin nada máis do teu dispositivo. Ninguén aquí pode ver a imaxe nin reconstruíla a "
        "partir das pegadas.",
        "choose": "Imaxe ou vídeo (podes escoller varios)",
        "under18": "Tiña menos de 18 anos nesta imaxe ou vídeo",
        "confirm": "É unha imaxe ou un vídeo meu e quero que esta plataforma o bloquee",
        "submit": "Crear as pegadas e envialas",
        "noscript": "Esta páxina necesita JavaScript para crear as pegadas no teu dispositivo. Sen el non "
        "se pode enviar nada.",
        "working": "Creando as pegadas no teu dispositivo…",
        "proving": "Comprobando que non é un programa automático…",
        "sending": "Enviando as pegadas…",
        "ready": "Pegadas listas. O ficheiro non saíu do teu dispositivo.",
        "done_title": "Feito. Garda estes dous códigos",
        "case_number": "Número de caso",
        "secret": "Clave secreta",
        "secret_note": "A clave só se mostra unha vez. Non a gardamos, así que non podemos volver enviarcha. "
        "Necesitas os dous códigos para ver o estado ou retirar as pegadas.",
        "low_quality": "Unha imaxe ten moi pouco detalle para unha pegada visual; só se enviou a súa pegada "
        "exacta.",
        "error": "Algo fallou e non se enviou nada. Téntao de novo.",
        "rate_limited": "Demasiados intentos desde esta conexión. Téntao máis tarde.",
        "need_file": "Primeiro escolle polo menos unha imaxe ou un vídeo.",
        "need_confirm": "Confirma que a imaxe ou o vídeo é teu.",
        "case_link": "Ver o estado ou retirar",
        "back": "Volver",
        "language": "Idioma",
        "help": "Se estás en perigo, chama ao 112. En España tamén podes chamar ao 017 (axuda gratuíta e "
        "confidencial con problemas en internet) ou ao 116 111 (ANAR, para nenos, nenas e adolescentes).",
        "case_title": "O teu caso",
        "case_lead": "Escribe o teu número de caso e a túa clave secreta.",
        "check": "Ver o estado",
        "withdraw": "Retirar as miñas pegadas",
        "withdraw_note": "Ao retiralas, as túas pegadas elimínanse das listas desta plataforma e do que "
        "comparte con plataformas asociadas. As subidas que coincidan deixarán de bloquearse.",
        "status_active": "Activo: bloquéanse as subidas que coinciden coas túas pegadas.",
        "status_withdrawn": "Retirado: as túas pegadas elimináronse.",
        "created": "Enviado o",
        "withdrawn_on": "Retirado o",
        "fingerprints": "Pegadas",
        "not_found": "Non hai ningún caso con este número e esta clave.",
        "files_ready": "Ficheiros listos",
    },
    "eu": {
        "title": "Eragotzi zure irudi intimo bat hemen partekatzea",
        "lead": "Zure irudi edo bideo intimo bat plataforma honetan partekatuko den beldur bazara, hemen "
        "blokeatzea lor dezakezu, irudia guri bidali gabe.",
        "how_title": "Nola dabilen",
        "how_1": "Aukeratu irudia edo bideoa zure gailuan.",
        "how_2": "Zure nabigatzaileak hatz-markak (hashak) sortzen ditu. Fitxategia ez da zure gailutik "
        "ateratzen.",
        "how_3": "Hatz-markak bakarrik bidaltzen dira. Haiekin bat datozen igoerak blokeatzen dira.",
        "sent_title": "Zer bidaltzen den eta zer ez",
        "sent": "Bidaltzen da: hatz-markak (irudietarako 64 karaktereko PDQ hash bat eta 32 karaktereko MD5 "
        "hash bat), fitxategi bakoitza irudia ala bideoa den, 18 urte baino gutxiago zenituen ala ez, "
        "eta orri honen hizkuntza.",
        "not_sent": "Ez da bidaltzen: irudia edo bideoa, haren izena, data edo tokia, zure izena, zure "
        "posta elektronikoa edo zure gailuko beste ezer. Hemen inork ezin du irudia ikusi, ezta "
        "hatz-marketatik berreraiki ere.",
        "choose": "Irudia edo bideoa (hainbat aukera ditzakezu)",
        "under18": "18 urte baino gutxiago nituen irudi edo bideo honetan",
        "confirm": "Nire irudi edo bideo bat da, eta plataforma honek blokeatzea nahi dut",
        "submit": "Sortu hatz-markak eta bidali",
        "noscript": "Orri honek JavaScript behar du hatz-markak zure gailuan sortzeko. Hura gabe ezin da "
        "ezer bidali.",
        "working": "Hatz-markak zure gailuan sortzen…",
        "proving": "Programa automatiko bat ez dela egiaztatzen…",
        "sending": "Hatz-markak bidaltzen…",
        "ready": "Hatz-markak prest. Fitxategia ez da zure gailutik atera.",
        "done_title": "Eginda. Gorde bi kode hauek",
        "case_number": "Kasu-zenbakia",
        "secret": "Gako sekretua",
        "secret_note": "Gakoa behin bakarrik erakusten da. Ez dugu gordetzen, eta ezin dizugu berriro "
        "bidali. Bi kodeak behar dituzu egoera ikusteko edo hatz-markak kentzeko.",
        "low_quality": "Irudi batek xehetasun gutxiegi du hatz-marka bisual baterako; haren hatz-marka "
        "zehatza bakarrik bidali da.",
        "error": "Zerbaitek huts egin du eta ez da ezer bidali. Saiatu berriro.",
        "rate_limited": "Saiakera gehiegi konexio honetatik. Saiatu geroago.",
        "need_file": "Lehenik, aukeratu gutxienez irudi edo bideo bat.",
        "need_confirm": "Berretsi irudia edo bideoa zurea dela.",
        "case_link": "Ikusi egoera edo kendu",
        "back": "Itzuli",
        "language": "Hizkuntza",
        "help": "Arriskuan bazaude, deitu 112ra. Espainian 017ra ere dei dezakezu (interneteko arazoetarako "
        "doako laguntza konfidentziala) edo 116 111ra (ANAR, haur eta nerabeentzat).",
        "case_title": "Zure kasua",
        "case_lead": "Idatzi zure kasu-zenbakia eta gako sekretua.",
        "check": "Ikusi egoera",
        "withdraw": "Kendu nire hatz-markak",
        "withdraw_note": "Kentzean, zure hatz-markak plataforma honen zerrendetatik eta plataforma "
        "bazkideekin partekatzen duenetik ezabatzen dira. Bat datozen igoerak ez dira gehiago "
        "blokeatuko.",
        "status_active": "Aktibo: zure hatz-markekin bat datozen igoerak blokeatzen dira.",
        "status_withdrawn": "Kenduta: zure hatz-markak ezabatu dira.",
        "created": "Bidalia",
        "withdrawn_on": "Kendua",
        "fingerprints": "Hatz-markak",
        "not_found": "Ez dago kasurik zenbaki eta gako honekin.",
        "files_ready": "Fitxategiak prest",
    },
}


def pick_language(query: str | None, accept_language: str | None) -> str:
    """?lang= first, then the best Accept-Language match (by q), then Spanish."""
    if query and query.lower() in LANGUAGES:
        return query.lower()
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        fields = part.strip().split(";")
        tag = fields[0].strip().lower().split("-")[0]
        q = 1.0
        for f in fields[1:]:
            f = f.strip()
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if tag in LANGUAGES and q > 0 and (best is None or (q, -i) > (best[0], best[1])):
            best = (q, -i, tag)
    return best[2] if best else DEFAULT_LANGUAGE
