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
comment-reply-title = New reply
comment-reply = { $name } replied to your comment on “{ $event }”.
event-comment-title = New comment
event-comment = { $name } commented on “{ $event }”.
announcement-title = { $group }
announcement = { $name }: { $message }
private-message-title = New message
private-message = { $name } sent you a message.

mail-subject = Kith: { $message }
mail-greeting = Hello { $name },

verification-code-subject = Your Kith code: { $code }
verification-code-intro = your code to verify this address on Kith is:
verification-code-end = It is valid for 15 minutes. If you did not ask for it, ignore this mail.
reset-code-subject = Your Kith password reset code: { $code }
reset-code-intro = your code to choose a new Kith password is:
reset-code-end = It is valid for 15 minutes. If you did not ask for it, ignore this mail: your password stays as it is.
email-changed-subject = Your Kith address was changed
email-changed-intro = your Kith account now uses the address { $new } instead of this one.
email-changed-end = If you did not do this, someone else knows your password: sign in with { $new } and your password, and change both back.
