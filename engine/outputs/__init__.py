"""What the engine hands to people and tools: JSON, text, PROV, explanations and their wording."""
