# LiveViews used by the tests. The first two `use LiveStash` lines are SPEC §6's usage,
# unchanged; that this file compiles is part of what the suite checks.

defmodule DurableStash.Test.CounterLive do
  @moduledoc false
  use Phoenix.LiveView
  use LiveStash, adapter: DurableStash, stored_keys: [:count, :username]

  def mount(_params, _session, socket) do
    socket = Phoenix.Component.assign(socket, count: 0, username: nil)
    {status, socket} = LiveStash.recover_state(socket)
    {:ok, Phoenix.Component.assign(socket, status: status)}
  end
end

defmodule DurableStash.Test.ScopedLive do
  @moduledoc false
  use Phoenix.LiveView

  use LiveStash,
    adapter: DurableStash,
    stored_keys: [theme: :session, draft: :reconnect]

  def mount(_params, _session, socket) do
    socket = Phoenix.Component.assign(socket, theme: "light", draft: "")
    {status, socket} = LiveStash.recover_state(socket)
    {:ok, Phoenix.Component.assign(socket, status: status)}
  end
end

defmodule DurableStash.Test.DraftOnlyLive do
  @moduledoc false
  use Phoenix.LiveView
  use LiveStash, adapter: DurableStash, stored_keys: [draft: :reconnect], auto_stash: false

  def mount(_params, _session, socket) do
    socket = Phoenix.Component.assign(socket, draft: "")
    {status, socket} = LiveStash.recover_state(socket)
    {:ok, Phoenix.Component.assign(socket, status: status)}
  end
end

defmodule DurableStash.Test.Migrations do
  @moduledoc false

  # vsn 1 stored `count` (an integer) and `name`; vsn 2 stores `total` (a string), `label`
  # and the reconnect-scoped `draft`.
  def to_v2(1, data) do
    %{
      total: Integer.to_string(Map.get(data, "count", 0)),
      label: Map.get(data, "name"),
      draft: Map.get(data, "draft"),
      dropped_key: true
    }
  end

  def raising(_vsn, _data), do: raise("migration bug")
  def not_a_map(_vsn, _data), do: :oops
end

defmodule DurableStash.Test.MigratedLive do
  @moduledoc false
  use Phoenix.LiveView

  use LiveStash,
    adapter: DurableStash,
    stored_keys: [:total, :label, draft: :reconnect],
    vsn: 2,
    migrate: {DurableStash.Test.Migrations, :to_v2}

  def mount(_params, _session, socket) do
    socket = Phoenix.Component.assign(socket, total: "0", label: nil, draft: nil)
    {status, socket} = LiveStash.recover_state(socket)
    {:ok, Phoenix.Component.assign(socket, status: status)}
  end
end

defmodule DurableStash.Test.CapturedMigrateLive do
  @moduledoc false
  use Phoenix.LiveView

  use LiveStash,
    adapter: DurableStash,
    stored_keys: [:total, :label],
    vsn: 2,
    migrate: &DurableStash.Test.Migrations.to_v2/2

  def mount(_params, _session, socket) do
    socket = Phoenix.Component.assign(socket, total: "0", label: nil)
    {status, socket} = LiveStash.recover_state(socket)
    {:ok, Phoenix.Component.assign(socket, status: status)}
  end
end

defmodule DurableStash.Test.UnmigratedLive do
  @moduledoc false
  use Phoenix.LiveView
  use LiveStash, adapter: DurableStash, stored_keys: [:total], vsn: 2

  def mount(_params, _session, socket) do
    socket = Phoenix.Component.assign(socket, total: "0")
    {status, socket} = LiveStash.recover_state(socket)
    {:ok, Phoenix.Component.assign(socket, status: status)}
  end
end

defmodule DurableStash.Test.LenientLive do
  @moduledoc false
  use Phoenix.LiveView
  use LiveStash, adapter: DurableStash, stored_keys: [:good, :bad], on_invalid_value: :log

  def mount(_params, _session, socket) do
    {:ok, Phoenix.Component.assign(socket, good: nil, bad: nil)}
  end
end

defmodule DurableStash.Test.BrokenMigrateLive do
  @moduledoc false
  use Phoenix.LiveView

  use LiveStash,
    adapter: DurableStash,
    stored_keys: [:total],
    vsn: 2,
    migrate: {DurableStash.Test.Migrations, :raising}

  def mount(_params, _session, socket) do
    socket = Phoenix.Component.assign(socket, total: "0")
    {status, socket} = LiveStash.recover_state(socket)
    {:ok, Phoenix.Component.assign(socket, status: status)}
  end
end
