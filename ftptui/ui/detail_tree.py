"""The detail tree of the selected packet; expanded nodes stay expanded across packets.

A line view of its own rather than Textual's Tree: that widget lays the whole screen out again
for every node added (tens per packet), which cost each ↑/↓ in the packet list tens of
milliseconds.  Here a packet's tree is plain `TreeNode`s, the visible lines are a flat list
made once per change, and only the lines on screen are drawn.  Keys as in Wireshark: ↑/↓ move,
Enter/Space toggle, → expands (or goes to the first child), ← collapses (or goes to the
parent), Shift+→/Shift+← expand/collapse a whole subtree.
"""
from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.strip import Strip

from ..dissect.tree import Dissection, Field
from ..text import safe
from . import messages
from .cursor_view import CursorView, cursor_bindings
from .failures import Guarded


class TreeNode:
    """One line of the tree: its label (safe text), the field with its key path as `data`."""

    __slots__ = ("label", "data", "children", "parent", "_expanded", "_tree", "depth")

    def __init__(self, tree: DetailTree, label: str, data, parent: TreeNode | None, expanded: bool = False):
        self._tree, self.label, self.data, self.parent = tree, label, data, parent
        self.children: list[TreeNode] = []
        self._expanded = expanded
        self.depth: int = parent.depth + 1 if parent is not None else -1

    @property
    def is_expanded(self) -> bool:
        return self._expanded

    @property
    def allow_expand(self) -> bool:
        return bool(self.children)

    def expand(self) -> TreeNode:
        self._set_expanded(True)
        return self

    def collapse(self) -> TreeNode:
        self._set_expanded(False)
        return self

    def toggle(self) -> TreeNode:
        self._set_expanded(not self._expanded)
        return self

    def expand_all(self) -> TreeNode:
        self._set_all(True)
        return self

    def collapse_all(self) -> TreeNode:
        self._set_all(False)
        return self

    def _set_all(self, expanded: bool) -> None:
        todo = [self]
        while todo:
            node = todo.pop()
            if node.children:
                node._remember(expanded)
                todo.extend(node.children)
        self._tree.lines_changed()

    def _set_expanded(self, expanded: bool) -> None:
        if self.children and expanded != self._expanded:
            self._remember(expanded)
            self._tree.lines_changed()

    def _remember(self, expanded: bool) -> None:
        self._expanded = expanded
        if self.data:
            (self._tree.expanded_paths.add if expanded else self._tree.expanded_paths.discard)(self.data[1])


class DetailTree(Guarded, CursorView, can_focus=True):
    DEFAULT_CSS = """
    DetailTree > .detail-tree--cursor { background: $accent 40%; }
    DetailTree > .detail-tree--selected { background: $accent 15%; }
    DetailTree > .detail-tree--guide { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"detail-tree--cursor", "detail-tree--selected", "detail-tree--guide"}
    # Wireshark's Apply as Filter / Prepare as Filter on the selected field; "f" opens the full menu
    BINDINGS = [
        *cursor_bindings("tree"),
        Binding("enter,space", "toggle_node", "Expand/collapse", id="tree.toggle"),
        Binding("right,l", "expand", "Expand", show=False, id="tree.expand"),
        Binding("left,h", "collapse", "Collapse", show=False, id="tree.collapse"),
        Binding("shift+right", "expand_all", "Expand subtree", show=False, id="tree.expand_all"),
        Binding("shift+left", "collapse_all", "Collapse subtree", show=False, id="tree.collapse_all"),
        Binding("a", "filter('apply', 'selected')", "Apply as filter", id="tree.apply"),
        Binding("p", "filter('prepare', 'selected')", "Prepare filter", id="tree.prepare"),
        Binding("A", "filter('apply', 'and')", "…and selected", id="tree.apply_and"),
        Binding("O", "filter('apply', 'or')", "…or selected", id="tree.apply_or"),
        Binding("N", "filter('apply', 'not')", "Not selected", id="tree.apply_not"),
        Binding("f", "filter_menu", "Filter menu", id="tree.filter_menu"),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.expanded_paths: set[tuple[str, ...]] = set()
        self.root = TreeNode(self, "packet", None, None, expanded=True)
        self.lines: list[TreeNode] = []
        self.set_reactive(DetailTree.cursor, -1)  # no field selected until the user moves
        self._drawn = 0  # lines that had text when last drawn
        self._pane = self._virtual = Size(0, 0)  # the pane's size, and the virtual size: lines and widest line so far at this pane size

    # --- content --------------------------------------------------------------------------------
    def clear(self) -> None:
        self.show_layers([])

    def show(self, d: Dissection) -> None:
        self.show_layers(d.layers)

    def show_layers(self, layers: list[Field]) -> None:
        """These layers instead of those shown, from the top, no field selected."""
        self.root.children = []
        self.set_reactive(DetailTree.cursor, -1)
        self.add_layers(layers)
        self.scroll_to(0, 0, animate=False)

    def add_layers(self, layers: list[Field]) -> None:
        """More layers below those shown (scapy's, when they come); the cursor stays."""
        for layer in layers:
            self._add(self.root, layer, (layer.key,))
        self.lines_changed()

    def _add(self, parent: TreeNode, f: Field, path: tuple[str, ...]) -> None:
        node = TreeNode(self, safe(f.label), (f, path), parent, expanded=path in self.expanded_paths)
        parent.children.append(node)
        for child in f.children:
            if not child.hidden:  # Wireshark's hidden items: there for filters, not shown
                self._add(node, child, path + (child.key,))

    def lines_changed(self) -> None:
        """Make the visible lines again after a change of content or of what is expanded."""
        keep = self.cursor_node
        lines: list[TreeNode] = []
        todo = list(reversed(self.root.children))
        while todo:
            node = todo.pop()
            lines.append(node)
            if node._expanded:
                todo.extend(reversed(node.children))
        self.lines = lines
        if keep is not None and keep in lines:
            self.set_reactive(DetailTree.cursor, lines.index(keep))
        elif self.cursor >= len(lines):
            self.set_reactive(DetailTree.cursor, len(lines) - 1)
        self._size_to_lines()
        # only the lines that held or hold text: the blank ones below stay as they are
        self.refresh_lines(0, max(len(lines), self._drawn))
        self._drawn = len(lines)

    def _size_to_lines(self) -> None:
        # The virtual size only grows (until the pane is resized): a new size means a new layout
        # of the whole screen, which would cost every ↑/↓ in the list more than all the rest.
        # Grown in steps, for the same reason.
        region = self.scrollable_content_region
        width = max((self._line_width(n) for n in self.lines), default=0)
        if width > self._virtual.width:
            width = -(-width // 32) * 32
        height = len(self.lines)
        if height > self._virtual.height:
            height = -(-height // 16) * 16
        self._virtual = Size(max(self._virtual.width, region.width, width),
                             max(self._virtual.height, region.height, height))
        if self._virtual != self.virtual_size:
            self.virtual_size = self._virtual

    @staticmethod
    def _line_width(node: TreeNode) -> int:
        return 2 * node.depth + 2 + cell_len(node.label)

    def on_resize(self) -> None:
        if self.size != self._pane:  # (Textual sends Resize for a new virtual size too)
            self._pane, self._virtual = self.size, Size(0, 0)
            self._size_to_lines()

    # --- the cursor -----------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def cursor_node(self) -> TreeNode | None:
        return self.lines[self.cursor] if 0 <= self.cursor < len(self.lines) else None

    def move_cursor(self, node: TreeNode | None) -> None:
        if node is not None and node in self.lines:
            self.cursor = self.lines.index(node)

    def action_cursor(self, delta: int) -> None:
        self.move_to(max(self.cursor, -1) + delta if self.cursor >= 0 or delta > 0 else 0)

    def watch_cursor(self, old: int, new: int) -> None:
        top = self.scroll_offset.y
        self.keep_in_view(new)
        if self.scroll_offset.y == top:
            self.refresh_line(old)  # only the two lines whose colour changed
            self.refresh_line(new)
        else:
            self.refresh()
        node = self.cursor_node
        if node is not None and node.data:
            self.post_message(messages.FieldSelected(node.data[0]))

    def action_toggle_node(self) -> None:
        if self.cursor_node is not None:
            self.cursor_node.toggle()

    def action_expand(self) -> None:
        node = self.cursor_node
        if node is None or not node.children:
            return
        if node.is_expanded:
            self.move_cursor(node.children[0])
        else:
            node.expand()

    def action_collapse(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.children and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_expand_all(self) -> None:
        if self.cursor_node is not None:
            self.cursor_node.expand_all()

    def action_collapse_all(self) -> None:
        if self.cursor_node is not None:
            self.cursor_node.collapse_all()

    def on_click(self, event) -> None:
        at = event.get_content_offset(self)
        line = -1 if at is None else self.scroll_offset.y + at.y
        if not 0 <= line < len(self.lines):
            return
        node = self.lines[line]
        if line == self.cursor or at.x + self.scroll_offset.x < 2 * node.depth + 2:
            node.toggle()  # a second click, or a click on the arrow
        self.move_cursor(node)

    def on_focus(self) -> None:
        if self.cursor < 0 and self.lines:
            self.cursor = 0  # the keys then act on the first line, as in Wireshark
        self.refresh_line(self.cursor)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor)

    # --- drawing ----------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = scroll_y + y
        style = self.rich_style
        if row >= len(self.lines):
            return Strip.blank(width, style)
        node = self.lines[row]
        arrow = ("▼ " if node._expanded else "▶ ") if node.children else "  "
        indent = "  " * node.depth
        if row == self.cursor:  # the selected field stays marked when another pane has the focus
            style = self.get_component_rich_style("detail-tree--cursor" if self.has_focus else "detail-tree--selected")
            segments = [Segment(indent + arrow + node.label, style)]
        else:
            guide = self.get_component_rich_style("detail-tree--guide")
            segments = [Segment(indent + arrow, guide), Segment(node.label, style)]
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, style)

    # --- filters --------------------------------------------------------------------------------
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
