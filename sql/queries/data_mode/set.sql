UPDATE data_mode SET mode = %(mode)s, changed_at = now() WHERE mode IS DISTINCT FROM %(mode)s;
