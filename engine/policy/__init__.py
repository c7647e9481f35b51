"""The policy: rule files loaded into the rule AST, checked, compiled and tallied."""
