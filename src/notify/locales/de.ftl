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

mail-subject = Kith: { $message }
mail-greeting = Hallo { $name },
