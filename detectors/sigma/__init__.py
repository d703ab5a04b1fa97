"""Sigma rules (specification 2.x) compiled into fast Python matchers.

Modules, by responsibility:

- :mod:`.pipeline` -- Ronda's pySigma processing pipeline (Sigma taxonomy -> ECS fields)
  and the logsource -> dataset table.
- :mod:`.loader` -- rule files to pySigma rule objects, one problem line per bad rule;
  :mod:`.prepare` checks and fixes a document before pySigma sees it.
- :mod:`.translate` -- a pySigma condition tree to Ronda's own matcher tree (:mod:`.ir`).
- :mod:`.evaluate` -- the matcher tree to closures; :mod:`.view` is the per-event cache.
- :mod:`.prefilter` -- required literals per matcher (:mod:`.regex_literals` for regular
  expressions); :mod:`.index` -- per dataset: Aho-Corasick automata per field and verdicts
  remembered per field value.
- :mod:`.ruleset` -- rules grouped by dataset, matchers shared by identical detections.
- :mod:`.meta` -- rule metadata: category, severity, ATT&CK techniques.
- :mod:`.compile` -- all of the above for a set of paths (``compile_rules``).
- :mod:`.engine` -- evaluation plus correlation (:mod:`.correlation`) and alert building
  (:mod:`.alerts`); :mod:`.detector` the ``type: sigma`` component; :mod:`.samples` the
  sample runner behind ``ronda rules test``.
"""
