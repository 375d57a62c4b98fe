# Kith's messages in English: the fallback for every other language.
# Dates: chrono strftime patterns, written with the language's own month and day names.
date-format = %a %-d %b %Y, %H:%M %Z
at-venue = { $start } at { $venue }
online = { $start } online ({ $url })

waitlist-promoted-title = You have a place
waitlist-promoted = A place opened up: you are going to “{ $event }”.
event-changed-title = Event changed
event-changed = “{ $event }” has changed: { $when }.
event-cancelled-title = Event cancelled
event-cancelled = “{ $event }” is cancelled.
event-cancelled-because = “{ $event }” is cancelled: { $reason }
meeting-requested-title = Did you meet?
meeting-requested = { $name } says you met at “{ $event }”. Confirm or decline it in the app.
group-handed-over-title = You organize a group now
group-handed-over = You now organize “{ $group }”: its organizer left Kith and you were its longest-standing co-organizer.
event-reminder-title = { $hours ->
    [24] Tomorrow: { $event }
   *[other] Soon: { $event }
}
event-reminder = “{ $event }” starts in { $hours } hours: { $when }.

mail-subject = Kith: { $message }
mail-greeting = Hello { $name },
