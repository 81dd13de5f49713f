"""
The command line (oxdkim.cli), one module per subcommand where one is tested alone
(test_ring: ``oxdkim ring`` and ``oxdkim records``); the consistency, demo and operator
suites run several subcommands together and stay here as cross-cutting suites.
"""
