"""Figures drawn with matplotlib's object API (no pyplot), shared by the GUI and the CLI.

Imports neither Qt nor torch: the CLI renders these with the Agg canvas, the GUI with
FigureCanvasQTAgg.
"""
