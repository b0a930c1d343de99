// What a card component is: anything that renders itself to an HTML fragment. Its own file so
// that the components, the card types and the rendering machinery share the contract without
// importing one another.

export interface CardComponent {
  render(): string;
}
