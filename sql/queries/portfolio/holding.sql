SELECT * FROM portfolio_valuation(%(user_id)s) WHERE id = %(id)s;
