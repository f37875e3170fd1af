defmodule DurableStash.Commands do
  @moduledoc """
  The daemon commands the adapter sends, built from a `DurableStash.Context` (docs/PROTOCOL.md
  describes each). Pure functions: values are encoded here, as Erlang external term format.
  """

  alias DurableStash.Context

  @doc """
  `DS.RECOVER session view vsn mount key scope ...`: every stored key with its scope; the
  daemon applies the scope rules for the mount kind.
  """
  @spec recover(Context.t()) :: [binary() | integer()]
  def recover(%Context{} = context) do
    pairs =
      Enum.flat_map(context.keys, fn {_key, name, scope} -> [name, Atom.to_string(scope)] end)

    ["DS.RECOVER", context.session_key, context.view, context.vsn, Atom.to_string(context.mount)] ++
      pairs
  end

  @doc "`DS.STASH session view vsn key value ...` for `pairs` of `{key, value}`."
  @spec stash(Context.t(), [{atom(), term()}, ...]) :: [binary() | integer()]
  def stash(%Context{} = context, [_ | _] = pairs) do
    values = Enum.flat_map(pairs, fn {key, value} -> [Atom.to_string(key), encode(value)] end)
    ["DS.STASH", context.session_key, context.view, context.vsn] ++ values
  end

  @doc "`DS.RESET session view`: removes the view's slice."
  @spec reset(Context.t()) :: [binary()]
  def reset(%Context{} = context), do: ["DS.RESET", context.session_key, context.view]

  @doc """
  Decodes a value the daemon returned. It sends only maps with string keys, lists, binaries,
  numbers, `true`, `false` and `nil`, so decoding is `:safe` (it never creates atoms).
  Raises `ArgumentError` on bytes that are not such a term.
  """
  @spec decode(binary()) :: term()
  def decode(binary) when is_binary(binary), do: :erlang.binary_to_term(binary, [:safe])

  defp encode(value), do: :erlang.term_to_binary(value)
end
