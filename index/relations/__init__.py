"""Document relations: references found in the text, typed by their sentence, resolved to archived documents."""
