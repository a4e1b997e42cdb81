"""The sandbox that `lp_test_` keys publish and text through: deterministic,
no network, and it keeps what it 'sent' so tests can count deliveries."""
