"""``python -m vision_results.synth``: see the package's docstring."""

from vision_results.synth import main

raise SystemExit(main())
