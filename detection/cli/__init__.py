"""The detector's command-line tools, as plain functions: ``manage.py train_detector``,
``finetune_detector``, ``evaluate_detector`` and ``detect`` are thin wrappers around them.

Each module has ``HELP``, ``add_arguments(parser)`` (any ``argparse`` parser) and ``run(options, out,
...)``, where ``options`` is the parsed arguments as a dict and settings values (the default weights,
the detector's configuration) are passed in by the wrapper: no Django here. A refusal raises
``CliError``, which a wrapper turns into ``CommandError``.
"""
