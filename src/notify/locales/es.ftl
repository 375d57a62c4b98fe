# Los mensajes de Kith en español.
date-format = %a %-d %b %Y, %H:%M %Z
at-venue = { $start } en { $venue }
online = { $start } en línea ({ $url })

waitlist-promoted-title = Tienes una plaza
waitlist-promoted = Se ha liberado una plaza: vas a «{ $event }».
event-changed-title = Evento modificado
event-changed = «{ $event }» ha cambiado: { $when }.
event-cancelled-title = Evento cancelado
event-cancelled = «{ $event }» se ha cancelado.
event-cancelled-because = «{ $event }» se ha cancelado: { $reason }
meeting-requested-title = ¿Os habéis conocido?
meeting-requested = { $name } dice que os conocisteis en «{ $event }». Confírmalo o recházalo en la app.
group-handed-over-title = Ahora organizas un grupo
group-handed-over = Ahora organizas «{ $group }»: su organizador dejó Kith y tú eras su coorganizador más antiguo.
event-reminder-title = { $hours ->
    [24] Mañana: { $event }
   *[other] Pronto: { $event }
}
event-reminder = «{ $event }» empieza en { $hours } horas: { $when }.
comment-reply-title = Nueva respuesta
comment-reply = { $name } ha respondido a tu comentario en «{ $event }».
event-comment-title = Nuevo comentario
event-comment = { $name } ha comentado en «{ $event }».
announcement-title = { $group }
announcement = { $name }: { $message }
private-message-title = Nuevo mensaje
private-message = { $name } te ha enviado un mensaje.

mail-subject = Kith: { $message }
mail-greeting = Hola { $name }:

verification-code-subject = Tu código de Kith: { $code }
verification-code-intro = tu código para verificar esta dirección en Kith es:
verification-code-end = Es válido durante 15 minutos. Si no lo pediste, ignora este correo.
reset-code-subject = Tu código para restablecer la contraseña de Kith: { $code }
reset-code-intro = tu código para elegir una nueva contraseña de Kith es:
reset-code-end = Es válido durante 15 minutos. Si no lo pediste, ignora este correo: tu contraseña sigue igual.
email-changed-subject = Tu dirección de Kith ha cambiado
email-changed-intro = tu cuenta de Kith usa ahora la dirección { $new } en lugar de esta.
email-changed-end = Si no fuiste tú, otra persona conoce tu contraseña: inicia sesión con { $new } y tu contraseña, y cambia ambas.
