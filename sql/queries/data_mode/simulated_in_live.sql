SELECT m.simulated AND d.mode = 'live' FROM marketplaces m, data_mode d WHERE m.code = %(marketplace)s;
