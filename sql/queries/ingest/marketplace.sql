SELECT code FROM marketplaces WHERE code = %(code)s;
