SELECT * FROM portfolio_valuation(%(user_id)s) ORDER BY acquired_on DESC, id;
