"""The names of the model slots a Session holds: the model being explored, and the one it
is compared with. Every request names its slot; a view is built for one."""

MAIN = "main"
COMPARE = "compare"
SLOTS = (MAIN, COMPARE)

