/* Intentionally empty: the real library is linked dynamically from Debian. */ typedef int ms_shim_unused;
