"""Noise-augmented training for randomized smoothing (Pal & Sulam, TMLR 2023): the library behind
the Snakemake pipeline; ``rsmooth.core`` holds the math of smoothing."""
