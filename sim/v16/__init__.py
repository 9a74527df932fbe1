"""The simulator's OCPP 1.6 modules: the handler table (`handlers`) and the features whose
messages and rules exist only in 1.6 and its security whitepaper: the Local Authorization List
and cache (`local_list`), the reservation store (`reservation`), charging profiles
(`smart_charging`), firmware updates and diagnostics/log uploads (`firmware`, `diagnostics`),
and Plug&Charge over DataTransfer (`pnc`). Version-neutral parts (connection lifecycle,
connectors, EV and meter, control surface, UI) live in `sim` and `sim.features`; 2.0.1 is one
more package like this one (`sim.v201`)."""
