"""The one place in condorweb that talks to HTCondor: a plain Python package, not a Django app.

Callers get plain typed values and the exceptions of ``condor.errors``; they
never see a binding object. The modules, from the caller's side inwards:

* ``client``: the public calls (discover, check_authorization, remote_config_*,
  fetch_log, send_command, slots, startds_matching, drain, cancel_drain,
  local_config, ...);
* ``errors``, ``validation``, ``commands`` (the command table with HTCondor's
  real ids), ``types`` (Target, Credentials, DaemonInfo, DrainRequest,
  SlotInfo, ...);
* ``tools``: ``condor_config_val`` and ``condor_fetchlog``, for what the
  bindings cannot do, and reading their output;
* ``workers``: the worker processes every binding call runs in, and the
  settings that bound them (``configure``);
* ``child``: the worker process itself, the only module that imports
  ``htcondor2`` or ``classad2``.

Nothing here imports Django or the console's apps (``tests/condor/
test_import_rules.py`` checks it): the console hands its settings over
through ``workers.configure`` and builds Targets and Credentials from its
models (``Daemon.target``, ``Pool.credentials``).
"""
