"""The labels a Hesk export is written with, per language, and how its columns are found.

Hesk writes the header row and the reply blocks with its language strings (``$hesklang``):
the header of the column is the label of the exporting user's language, and so are the
``Reply by`` / ``Date`` lines of the replies cell and the status and priority names. The
labels below are those of Hesk's language packs (English from 3.7; the others from the
packs as published, where ``first_reply_at`` and ``reply_messages`` appear only in 3.7
packs). A column whose label is unknown (a pack without it writes an empty cell, a
``custom-text.php`` may rename it) is found by its position, which Hesk never changes:
19 fixed columns, the custom fields, then the optional history and replies, then the URL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: Language code -> Hesk language key -> label (Hesk's own strings).
LANGUAGES: dict[str, dict[str, str]] = {
    "en": {
        "LANGUAGE": "English",
        "trackID": "Tracking ID",
        "date": "Date",
        "last_update": "Updated",
        "first_reply_at": "First reply at",
        "resolved_at": "Resolved at",
        "name": "Name",
        "email": "Email",
        "followers": "Followers",
        "category": "Category",
        "priority": "Priority",
        "status": "Status",
        "subject": "Subject",
        "message": "Message",
        "owner": "Owner",
        "replies": "Replies",
        "staff": "Staff",
        "ts": "Time worked",
        "due_date": "Due date",
        "thist": "Ticket History",
        "reply_messages": "Reply messages",
        "ticket_url": "Ticket URL",
        "reply_by": "Reply by",
        "staff_deleted": "[Staff Deleted]",
        "anon_name": "[Customer]",
        "anon_email": "",
        "open": "New",
        "wait_reply": "Waiting reply",
        "replied": "Replied",
        "closed": "Resolved",
        "in_progress": "In Progress",
        "on_hold": "On Hold",
        "critical": "Critical",
        "high": "High",
        "medium": "Medium",
        "low": "Low",
    },
    "de": {
        "LANGUAGE": "Deutsch",
        "trackID": "Tracking-Nr.",
        "date": "Datum",
        "last_update": "Aktualisiert",
        "resolved_at": "Gelöst am",
        "name": "Name",
        "email": "E-Mail Adresse",
        "followers": "Follower",
        "category": "Kategorie",
        "priority": "Priorität",
        "status": "Status",
        "subject": "Betreff",
        "message": "Nachricht",
        "owner": "Besitzer",
        "replies": "Antworten",
        "staff": "Mitarbeiter",
        "ts": "Bearbeitungszeit",
        "due_date": "Fälligkeitsdatum",
        "thist": "Ticketverlauf",
        "ticket_url": "Ticket URL",
        "reply_by": "Antwort von",
        "staff_deleted": "[Personal Gelöscht]",
        "anon_name": "[Kunde]",
        "anon_email": "",
        "open": "Neu",
        "wait_reply": "Warte auf Antwort",
        "replied": "Beantwortet",
        "closed": "Erledigt",
        "in_progress": "In Bearbeitung",
        "on_hold": "Wartet auf Bearbeitung",
        "critical": " * Kritisch * ",
        "high": "Hoch",
        "medium": "Mittel",
        "low": "Niedrig",
    },
    "fr": {
        "LANGUAGE": "Français",
        "trackID": "Numéro de la Demande",
        "date": "Date",
        "last_update": "Mis à jour",
        "resolved_at": "Résolu à",
        "name": "Votre Nom",
        "email": "Votre Adresse E-mail ",
        "followers": "Suiveurs",
        "category": "Catégorie",
        "priority": "Choisir la Priorité ",
        "status": "Statut",
        "subject": "Objet de votre Demande",
        "message": "Message ",
        "owner": "Technicien",
        "replies": "Réponses",
        "staff": "Equipe Support",
        "ts": "Temps de traitement",
        "due_date": "Due date",
        "thist": "Historique du Ticket",
        "ticket_url": "Ticket URL",
        "reply_by": "Réponse de",
        "staff_deleted": "[Personnel supprimé]",
        "anon_name": "[Customer]",
        "anon_email": "[Email]",
        "open": "Nouveau",
        "wait_reply": "Attente Réponse",
        "replied": "Répondu",
        "closed": "Résolu",
        "in_progress": "En Cours",
        "on_hold": "En Attente",
        "critical": " * critique * ",
        "high": "Élevée",
        "medium": "Moyenne",
        "low": "Basse",
    },
    "es": {
        "LANGUAGE": "Español",
        "trackID": "ID de seguimiento",
        "date": "Fecha",
        "last_update": "Actualizado",
        "first_reply_at": "Primera respuesta en",
        "resolved_at": "Resuelto en",
        "name": "Nombre",
        "email": "E-mail",
        "followers": "Seguidores",
        "category": "Categoría",
        "priority": "Prioridad",
        "status": "Estado",
        "subject": "Asunto",
        "message": "Mensaje",
        "owner": "Propietario",
        "replies": "Respuestas",
        "staff": "Equipo",
        "ts": "Tiempo Dedicado",
        "due_date": "Fecha de vencimiento",
        "thist": "Historial de Tickets",
        "reply_messages": "Mensajes de respuesta",
        "ticket_url": "URL de ticket",
        "reply_by": "Respuesta de",
        "staff_deleted": "[Personal eliminado]",
        "anon_name": "[Cliente]",
        "anon_email": "",
        "open": "Nuevo",
        "wait_reply": "Esperando respuesta",
        "replied": "Respondido",
        "closed": "Resuelto",
        "in_progress": "En progreso",
        "on_hold": "En espera",
        "critical": "Crítica",
        "high": "Alta",
        "medium": "Media",
        "low": "Baja",
    },
    "it": {
        "LANGUAGE": "Italiano",
        "trackID": "Codice ticket",
        "date": "Data",
        "last_update": "Aggiornamento",
        "resolved_at": "Risolto il",
        "name": "Nome e Cognome",
        "email": "Email",
        "followers": "Follower",
        "category": "Categoria",
        "priority": "Priorità",
        "status": "Stato",
        "subject": "Oggetto",
        "message": "Messaggio",
        "owner": "Proprietario",
        "replies": "Risposte",
        "staff": "Staff",
        "ts": "Tempo di lavorazione",
        "due_date": "Data di scadenza",
        "thist": "Cronologia del ticket",
        "ticket_url": "URL del ticket",
        "reply_by": "Risposta da",
        "staff_deleted": "[Staff eliminato]",
        "anon_name": "[Cliente]",
        "anon_email": "",
        "open": "Nuovo",
        "wait_reply": "In attesa di risposta",
        "replied": "Risposto",
        "closed": "Risolto",
        "in_progress": "In lavorazione",
        "on_hold": "In attesa",
        "critical": "Critica",
        "high": "Alta",
        "medium": "Media",
        "low": "Bassa",
    },
    "pt-BR": {
        "LANGUAGE": "Português Brasileiro",
        "trackID": "Código de identificação",
        "date": "Data",
        "last_update": "Atualizado",
        "resolved_at": "Resolvido em",
        "name": "Nome",
        "email": "E-mail",
        "followers": "Seguidores",
        "category": "Categoria",
        "priority": "Prioridade",
        "status": "Status",
        "subject": "Assunto",
        "message": "Mensagem",
        "owner": "Responsável",
        "replies": "Respostas",
        "staff": "Equipe",
        "ts": "Tempo dedicado",
        "due_date": "Data de Vencimento",
        "thist": "Histórico do chamado",
        "ticket_url": "URL do chamado",
        "reply_by": "Respondido por",
        "staff_deleted": "[Equipe excluída]",
        "anon_name": "[Cliente]",
        "anon_email": "",
        "open": "Novo",
        "wait_reply": "Aguardando resposta",
        "replied": "Respondido",
        "closed": "Resolvido",
        "in_progress": "Em progresso",
        "on_hold": "Em espera",
        "critical": " * Crítico * ",
        "high": "Alta",
        "medium": "Média",
        "low": "Baixa",
    },
    "pl": {
        "LANGUAGE": "Polski",
        "trackID": "Identyfikator",
        "date": "Data",
        "last_update": "Aktualizacja",
        "resolved_at": "Rozwiązane o",
        "name": "Imię i nazwisko",
        "email": "e-mail",
        "followers": "Obserwatorzy",
        "category": "Kategoria",
        "priority": "Priorytet",
        "status": "Status",
        "subject": "Temat",
        "message": "Wiadomość",
        "owner": "Właściciel",
        "replies": "Ilość odpowiedzi",
        "staff": "obsługa",
        "ts": "Czas pracy",
        "due_date": "Termin wykonania",
        "thist": "Historia zgłoszenia",
        "ticket_url": "Link do zgłoszenia",
        "reply_by": "Udzielono odpowiedzi jako",
        "staff_deleted": "[Pracownik usunięty]",
        "anon_name": "[Klient]",
        "anon_email": "",
        "open": "Nowe",
        "wait_reply": "Oczekuje na odpowiedź",
        "replied": "Udzielono odpowiedzi",
        "closed": "Zakończone",
        "in_progress": "Przetwarzane",
        "on_hold": "Wstrzymane",
        "critical": "Krytyczny",
        "high": "Wysoki",
        "medium": "Średni",
        "low": "Niski",
    },
    "ru": {
        "LANGUAGE": "Pусский",
        "trackID": "ID заявки",
        "date": "Дата",
        "last_update": "Обновлено",
        "resolved_at": "Решено в",
        "name": "Фамилия, Имя, Отчество",
        "email": "E-mail",
        "followers": "Подписчики",
        "category": "Категория",
        "priority": "Приоритет",
        "status": "Статус",
        "subject": "Тема",
        "message": "Сообщение",
        "owner": "Исполнитель",
        "replies": "Ответы",
        "staff": "Сотрудник",
        "ts": "Затраты времени",
        "due_date": "Срок истечения",
        "thist": "История изменений",
        "ticket_url": "URL запроса",
        "reply_by": "Ответ от:",
        "staff_deleted": "[Сотрудник удален]",
        "anon_name": "[Клиент]",
        "anon_email": "",
        "open": "Новая",
        "wait_reply": "Получен комментарий",
        "replied": "Комментарий отправлен",
        "closed": "Решена",
        "in_progress": "В работе",
        "on_hold": "Приостановлена",
        "critical": " * Критический * ",
        "high": "Высокий",
        "medium": "Нормальный",
        "low": "Низкий",
    },
    "cs": {
        "LANGUAGE": "Čeština",
        "trackID": "ID ticketu",
        "date": "Datum",
        "last_update": "Aktualizováno",
        "resolved_at": "Vyřešeno dne",
        "name": "Jméno",
        "email": "E-mail",
        "followers": "Sledující",
        "category": "Kategorie",
        "priority": "Priorita",
        "status": "Stav",
        "subject": "Předmět",
        "message": "Zpráva",
        "owner": "Vlastník",
        "replies": "Odpovědi",
        "staff": "Správce",
        "ts": "Strávený čas",
        "due_date": "Konečné datum",
        "thist": "Historie ticketu",
        "ticket_url": "Adresa ticketu",
        "reply_by": "Odpovědět jako",
        "staff_deleted": "[Zaměstnanec smazán]",
        "anon_name": "[Customer]",
        "anon_email": "",
        "open": "Nový",
        "wait_reply": "Čeká na odpověď",
        "replied": "Zodpovězen",
        "closed": "Vyřešen",
        "in_progress": "Zpracování",
        "on_hold": "Pozastaveno",
        "critical": " * Kritická * ",
        "high": "Vysoká",
        "medium": "Střední",
        "low": "Nízká",
    },
    "ca": {
        "LANGUAGE": "Català",
        "trackID": "ID de seguiment",
        "date": "Data",
        "last_update": "Actualitzat",
        "resolved_at": "Resolt a",
        "name": "Nom",
        "email": "E-mail",
        "followers": "Seguidors",
        "category": "Categoria",
        "priority": "Prioritat",
        "status": "Estat",
        "subject": "Assumpte",
        "message": "Missatge",
        "owner": "Propietari",
        "replies": "Respostes",
        "staff": "Equip",
        "ts": "Temps Dedicat",
        "due_date": "Data de venciment",
        "thist": "Historial de tiquets",
        "ticket_url": "URL de tiquet",
        "reply_by": "Resposta de",
        "staff_deleted": "[Personal eliminat]",
        "anon_name": "[Client]",
        "anon_email": "",
        "open": "Nou",
        "wait_reply": "Esperant resposta",
        "replied": "Respost",
        "closed": "Resolt",
        "in_progress": "En progrés",
        "on_hold": "En espera",
        "critical": "Crítica",
        "high": "Alta",
        "medium": "Mitjana",
        "low": "Baixa",
    },
}

#: The 19 fixed columns, by the key of their label (``replies_staff`` is
#: ``replies + " (" + staff + ")"``; ``#`` is written as is in every language).
FIXED_COLUMNS: tuple[str, ...] = (
    "#",
    "trackID",
    "date",
    "last_update",
    "first_reply_at",
    "resolved_at",
    "name",
    "email",
    "followers",
    "category",
    "priority",
    "status",
    "subject",
    "message",
    "owner",
    "replies",
    "replies_staff",
    "ts",
    "due_date",
)
#: Built-in status code by label key, and priority id by label key.
STATUS_KEYS = {
    "open": 0,
    "wait_reply": 1,
    "replied": 2,
    "closed": 3,
    "in_progress": 4,
    "on_hold": 5,
}
PRIORITY_KEYS = {"critical": 0, "high": 1, "medium": 2, "low": 3}
_EXPORT_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")


def label(language: str, key: str) -> str:
    """The label Hesk writes for ``key`` in ``language`` ('' when the pack lacks it)."""
    strings = LANGUAGES[language]
    if key == "#":
        return "#"
    if key == "replies_staff":
        return f"{strings.get('replies', '')} ({strings.get('staff', '')})"
    return strings.get(key, "")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def all_labels(key: str) -> set[str]:
    """Every known label of ``key`` (normalised), in every language."""
    return {_norm(label(lang, key)) for lang in LANGUAGES} - {""}


def detect_language(headers: Sequence[str]) -> tuple[str, int]:
    """The language whose fixed labels match the header row best, and how many matched."""
    best, score = "en", -1
    for lang in LANGUAGES:
        hits = 0
        for i, key in enumerate(FIXED_COLUMNS[1:], start=1):
            text = label(lang, key)
            hits += bool(i < len(headers) and text and _norm(headers[i]) == _norm(text))
        if hits > score:
            best, score = lang, hits
    return best, score


def code_of(name: str, keys: dict[str, int], language: str) -> int | None:
    """The built-in code of a status or priority name (its language first, then any)."""
    wanted = _norm(name)
    if not wanted:
        return None
    for lang in (language, *LANGUAGES):
        for key, code in keys.items():
            if _norm(LANGUAGES[lang].get(key, "")).strip(" *") == wanted.strip(" *"):
                return code
    return None


@dataclass(frozen=True)
class Layout:
    """Where each column of one export file is, and the language it was written in."""

    language: str
    date_label: str
    customs: tuple[tuple[int, str], ...]
    history: int | None
    replies: int | None
    url: int

    @property
    def fixed(self) -> dict[str, int]:
        """Fixed column key -> index (always the first 19 columns)."""
        return {key: i for i, key in enumerate(FIXED_COLUMNS)}


def looks_like_history(cells: Sequence[str]) -> bool:
    """True when every non-empty sample cell is a Hesk history (``<li class="smaller">``)."""
    filled = [c for c in cells if c.strip()]
    return bool(filled) and all(c.lstrip().startswith('<li class="smaller">') for c in filled)


def looks_like_replies(cells: Sequence[str], date_label: str) -> bool:
    """True when every non-empty sample cell starts like a reply block and ends with ---."""
    head = re.compile(r"^[^\n]*\n" + re.escape(date_label) + r" \d{4}-\d\d-\d\dT")
    filled = [c.replace("\r\n", "\n") for c in cells if c.strip()]
    return bool(filled) and all(head.match(c) and c.endswith("\n---\n") for c in filled)


def resolve_layout(headers: Sequence[str], sample: Sequence[Sequence[str]]) -> Layout | None:
    """The layout of an export from its header row and a few data rows; None if not one.

    A Hesk export starts with ``#``, has the 19 fixed columns and the URL, and either its
    labels match a known language or its first row has a number and two export dates
    where Hesk puts them.
    """
    if len(headers) < len(FIXED_COLUMNS) + 1 or headers[0].strip() != "#":
        return None
    language, hits = detect_language(headers)
    if hits < 8:
        row = sample[0] if sample else []
        shaped = (
            len(row) > 3
            and row[0].strip().replace(".", "", 1).isdigit()
            and bool(_EXPORT_DATE.match(row[2]))
            and bool(_EXPORT_DATE.match(row[3]))
        )
        if not shaped:
            return None
    date_label = headers[2]
    url = len(headers) - 1
    middle = list(range(len(FIXED_COLUMNS), url))
    history = replies = None
    column = {i: [r[i] if i < len(r) else "" for r in sample] for i in middle}
    for i in middle:  # labels first
        if _norm(headers[i]) in all_labels("thist"):
            history = i
        elif _norm(headers[i]) in all_labels("reply_messages"):
            replies = i
    last = middle[-1] if middle else None
    if (
        replies is None
        and last is not None
        and last != history
        and looks_like_replies(column[last], date_label)
    ):
        replies = last
    if history is None:
        candidates = [i for i in middle[-2:] if i != replies]
        for i in reversed(candidates):
            if (replies is None or i < replies) and looks_like_history(column[i]):
                history = i
                break
    customs = tuple((i, headers[i].strip()) for i in middle if i not in (history, replies))
    return Layout(language, date_label, customs, history, replies, url)
