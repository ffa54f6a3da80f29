"""The detail tree of the selected packet; expanded nodes stay expanded across packets."""
from __future__ import annotations

from textual.message import Message
from textual.widgets import Tree

from ..dissect.text import safe
from ..dissect.tree import Dissection, Field


class DetailTree(Tree):
    class FieldSelected(Message):
        def __init__(self, field: Field):
            self.field = field
            super().__init__()

    def __init__(self, **kwargs):
        super().__init__("packet", **kwargs)
        self.show_root = False
        self.expanded_paths: set[tuple[str, ...]] = set()

    def show(self, d: Dissection) -> None:
        self.clear()
        for layer in d.layers:
            self._add(self.root, layer, (layer.key,))
        self.root.expand()

    def _add(self, parent, f: Field, path: tuple[str, ...]) -> None:
        label = safe(f.label)
        if f.children:
            node = parent.add(label, data=(f, path), expand=path in self.expanded_paths)
            for child in f.children:
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
            self.post_message(self.FieldSelected(event.node.data[0]))
