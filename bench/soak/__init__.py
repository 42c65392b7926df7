"""``make soak``: a long steady run; memory and file descriptors of every process, start vs end."""
