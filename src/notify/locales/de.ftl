# Kiths Nachrichten auf Deutsch.
date-format = %a, %-d. %b %Y, %H:%M %Z
at-venue = { $start }, { $venue }
online = { $start }, online ({ $url })

waitlist-promoted-title = Du hast einen Platz
waitlist-promoted = Ein Platz ist frei geworden: Du bist bei „{ $event }“ dabei.
event-changed-title = Termin geändert
event-changed = „{ $event }“ wurde geändert: { $when }.
event-cancelled-title = Termin abgesagt
event-cancelled = „{ $event }“ ist abgesagt.
event-cancelled-because = „{ $event }“ ist abgesagt: { $reason }
meeting-requested-title = Habt ihr euch getroffen?
meeting-requested = { $name } sagt, ihr habt euch bei „{ $event }“ getroffen. Bestätige oder lehne es in der App ab.
group-handed-over-title = Du organisierst jetzt eine Gruppe
group-handed-over = Du organisierst jetzt „{ $group }“: Die Organisatorin oder der Organisator hat Kith verlassen, und du warst am längsten Co-Organisator.
event-reminder-title = { $hours ->
    [24] Morgen: { $event }
   *[other] Gleich: { $event }
}
event-reminder = „{ $event }“ beginnt in { $hours } Stunden: { $when }.
comment-reply-title = Neue Antwort
comment-reply = { $name } hat auf deinen Kommentar zu „{ $event }“ geantwortet.
event-comment-title = Neuer Kommentar
event-comment = { $name } hat „{ $event }“ kommentiert.
announcement-title = { $group }
announcement = { $name }: { $message }
private-message-title = Neue Nachricht
private-message = { $name } hat dir eine Nachricht geschickt.

mail-subject = Kith: { $message }
mail-greeting = Hallo { $name },

verification-code-subject = Dein Kith-Code: { $code }
verification-code-intro = dein Code, um diese Adresse bei Kith zu bestätigen:
verification-code-end = Er gilt 15 Minuten. Wenn du ihn nicht angefordert hast, ignoriere diese Mail.
reset-code-subject = Dein Code zum Zurücksetzen des Kith-Passworts: { $code }
reset-code-intro = dein Code, um ein neues Kith-Passwort zu wählen:
reset-code-end = Er gilt 15 Minuten. Wenn du ihn nicht angefordert hast, ignoriere diese Mail: Dein Passwort bleibt, wie es ist.
email-changed-subject = Deine Kith-Adresse wurde geändert
email-changed-intro = dein Kith-Konto verwendet jetzt die Adresse { $new } statt dieser.
email-changed-end = Wenn du das nicht warst, kennt jemand anderes dein Passwort: Melde dich mit { $new } und deinem Passwort an und ändere beides zurück.
