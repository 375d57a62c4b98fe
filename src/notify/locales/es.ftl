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

mail-subject = Kith: { $message }
mail-greeting = Hola { $name }:
