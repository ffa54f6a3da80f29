"""The detail tree of the selected packet; expanded nodes stay expanded across packets."""
from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree

from ..dissect.tree import Dissection, Field
from . import messages
from .failures import Guarded
from .plain import plain


class DetailTree(Guarded, Tree):
    # Wireshark's Apply as Filter / Prepare as Filter on the selected field; "f" opens the full menu
    BINDINGS = [
        Binding("a", "filter('apply', 'selected')", "Apply as filter", id="tree.apply"),
        Binding("p", "filter('prepare', 'selected')", "Prepare filter", id="tree.prepare"),
        Binding("A", "filter('apply', 'and')", "…and selected", id="tree.apply_and"),
        Binding("O", "filter('apply', 'or')", "…or selected", id="tree.apply_or"),
        Binding("N", "filter('apply', 'not')", "Not selected", id="tree.apply_not"),
        Binding("f", "filter_menu", "Filter menu", id="tree.filter_menu"),
    ]



    def __init__(self, **kwargs):
        super().__init__("packet", **kwargs)
        self.show_root = False
        self.expanded_paths: set[tuple[str, ...]] = set()

    def show(self, d: Dissection) -> None:
        self.clear()
        for layer in d.layers:
            self._add(self.root, layer, (layer.key,))
        self.root.expand()

    def add_layers(self, layers: list[Field]) -> None:
        """More layers below those shown (scapy's, when they come); the cursor stays."""
        for layer in layers:
            self._add(self.root, layer, (layer.key,))

    def process_label(self, label) -> Text:
        """Field labels quote packets: a str is plain text here, never markup."""
        return plain(label) if isinstance(label, str) else label

    def _add(self, parent, f: Field, path: tuple[str, ...]) -> None:
        label = plain(f.label)
        if f.children:
            node = parent.add(label, data=(f, path), expand=path in self.expanded_paths)
            for child in f.children:
                if not child.hidden:  # Wireshark's hidden items: there for filters, not shown
                    self._add(node, child, path + (child.key,))
        else:
            parent.add_leaf(label, data=(f, path))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        if event.node.data:
            self.expanded_paths.add(event.node.data[1])

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed) -> None:
        if event.node.data:
            self.expanded_paths.discard(event.node.data[1])

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data:
            self.post_message(messages.FieldSelected(event.node.data[0]))

    def _selected_field(self) -> Field | None:
        node = self.cursor_node
        if node is None or not node.data:
            self.notify("Select a field in the packet details first.", severity="warning")
            return None
        return node.data[0]

    def action_filter(self, mode: str, how: str) -> None:
        field = self._selected_field()
        if field is not None:
            self.post_message(messages.FilterRequest(field, mode, how))

    def action_filter_menu(self) -> None:
        field = self._selected_field()
        if field is not None:
            self.post_message(messages.FilterRequest(field, "menu"))
