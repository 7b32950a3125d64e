"""Workers: Dramatiq broker, actors that carry only keys, and the migrate coordinator."""
