"""``python -m workers.simulator --url URL``: see :mod:`workers.simulator.cli`."""

from workers.simulator.cli import main

raise SystemExit(main())
