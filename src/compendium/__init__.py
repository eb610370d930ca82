"""Research compendium: local responses to migrants (Wielkopolska 2020, four cities 2022).

Modules hold one concern each: readers per source format (``survey``, ``dedoose``,
``qdpx``), the tidy coded-interview tables (``corpus``), ``codebook`` labels,
survey statistics (``stats``) and disclosure control (``sdc``), coded-interview
analyses (``qual``), figures (``plots``), the data generator (``synthetic``),
notebook parameters (``params``) and the runner Make calls (``runner``).
"""

__version__ = "0.1.0"
