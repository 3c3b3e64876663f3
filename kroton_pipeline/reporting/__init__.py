"""The funnel report: set-based SQL over the system of record (:mod:`.funnel`), its markdown
(:mod:`.markdown`) and a PNG chart with no plotting library (:mod:`.charts`)."""
