"""A class outside every trusted library, for the skops refusal test."""


class Gadget:
    def __init__(self) -> None:
        self.value = 1
