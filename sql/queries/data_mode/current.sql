SELECT mode FROM data_mode;
